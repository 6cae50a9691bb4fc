/* HDF5 filter plugin: Blosc2 (filter id 32026) on tersa's engine. HDF5 finds it through
 * HDF5_PLUGIN_PATH and asks it for its filter class; everything else lives in libtersa_h5
 * (tersa_h5_filter_class). Public headers only. */
#include <H5PLextern.h>

#include "tersa/tersa_h5.h"

H5PL_type_t H5PLget_plugin_type(void) { return H5PL_TYPE_FILTER; }

const void *H5PLget_plugin_info(void) { return tersa_h5_filter_class(); }
