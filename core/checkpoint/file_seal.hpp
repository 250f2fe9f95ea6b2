// The seal of a checkpoint file: its length and CRC-32, kept in the first bytes of the file (HDF5's user
// block), written once the file is complete and checked before HDF5 reads anything of it. HDF5 trusts the
// structures it reads, and some damage to them crashes it rather than giving an error: with the seal, a
// damaged or truncated checkpoint is refused with a message instead.
#pragma once

#include <cstddef>
#include <filesystem>

namespace ringtrain {

// The bytes a sealed file sets aside at its start (HDF5: a user block of this size).
constexpr std::size_t kSealBytes = 512;

// Writes the seal into the first kSealBytes of `path`, which HDF5 left to it.
void seal_file(const std::filesystem::path& path);

// Checks the seal: an error names the file and what is wrong (truncated, damaged, neither sealed nor HDF5).
// A file without a seal that starts as HDF5 does passes: checkpoints written before ringtrain sealed them.
void check_file_seal(const std::filesystem::path& path);

}  // namespace ringtrain
