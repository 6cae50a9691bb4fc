/* tersa: compressed, sliceable storage for large numerical arrays. Umbrella header. */
#ifndef TERSA_H
#define TERSA_H
#include "tersa_common.h"
#include "tersa_chunk.h"
#include "tersa_frame.h"
#include "tersa_ndarray.h"
#endif
