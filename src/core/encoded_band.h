// A band as the runner contract hands it over: rows of the image, filtered and deflated the PNG
// way (image/band_encoder.h makes them; the master appends them to the PNG without decoding).
#pragma once

#include <cstdint>
#include <string>

#include "core/task.h"

namespace taskdist {

/// Rows of one band in PNG form: each row is a filter-type byte and the filtered pixels, and all
/// rows together are one raw deflate stream that ends on a byte boundary (sync flush) with no
/// final block, so bands concatenate into one valid zlib stream.
struct EncodedBand {
  RowRange rows;
  std::string deflated;
  uint32_t adler = 1;       ///< Adler-32 of the filtered (uncompressed) bytes
  uint64_t raw_bytes = 0;   ///< number of filtered (uncompressed) bytes
};

}  // namespace taskdist
