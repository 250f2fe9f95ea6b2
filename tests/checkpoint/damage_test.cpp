// Damaged checkpoints: with any one byte of the file changed, reading and restoring it either fails with an
// error or gives back exactly what was written; it never crashes or takes other values. HDF5's fletcher32
// covers the stored values only; the file's seal covers its structure too (where a value's type, size or
// place is recorded, which HDF5 trusts) and its text attributes.
#include <gtest/gtest.h>

#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

#include "core/checkpoint/checkpoint.hpp"
#include "tests/checkpoint/checkpoint_fixtures.hpp"

namespace ringtrain {
namespace {

namespace fs = std::filesystem;
using namespace checkpoint_testing;  // the model, values and fixture the checkpoint tests share

std::string read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void write_bytes(const fs::path& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

// Whether what the checkpoint at `path` gives a resumed run is what example_info() and `written` hold.
bool reads_as_written(const fs::path& path, Built& into, const std::vector<std::vector<float>>& written) {
  const CheckpointInfo info = read_checkpoint(path);
  const std::string config = checkpoint_run(path).config_text;
  restore_checkpoint(path, *into.model, into.optimizer.get());
  const CheckpointInfo expected = example_info();
  const TrainingPosition &position = info.position, &wanted = expected.position;
  return everything(into) == written && into.optimizer->steps() == 1423 && config == expected.config_text &&
         info.config_text == expected.config_text && info.optimizer == expected.optimizer &&
         position.epoch == wanted.epoch && position.step == wanted.step &&
         position.global_step == wanted.global_step && position.samples_seen == wanted.samples_seen &&
         position.seed == wanted.seed && position.loss_sum == wanted.loss_sum &&
         position.correct == wanted.correct && position.seen == wanted.seen &&
         info.val_accuracy == expected.val_accuracy;
}

TEST_F(CheckpointTest, AnyChangedByteIsAnErrorOrChangesNothingTheRunUses) {
  const fs::path original = write_example();
  const std::string bytes = read_bytes(original);
  const fs::path damaged = dir_.path() / "damaged.h5";
  Built into = build(kEveryStatefulLayer, 99);
  int refused = 0, harmless = 0;
  std::vector<std::size_t> taken;        // read without an error as other values
  std::vector<std::string> unexplained;  // failed with something other than ringtrain's error
  // Every byte of the seal and HDF5's superblock, then one in 61 (each byte takes about a millisecond).
  for (std::size_t at = 0; at < bytes.size(); at += at < 1024 ? 1 : 61) {
    std::string changed = bytes;
    changed[at] = static_cast<char>(changed[at] ^ (1 << (at % 8)));
    write_bytes(damaged, changed);
    try {
      if (reads_as_written(damaged, into, written_)) {
        ++harmless;
      } else {
        taken.push_back(at);
      }
    } catch (const Error&) {
      ++refused;
    } catch (const std::exception& error) {
      unexplained.push_back(std::to_string(at) + ": " + error.what());
    }
  }
  std::ostringstream offsets;
  for (std::size_t i = 0; i < std::min<std::size_t>(taken.size(), 20); ++i)
    offsets << " " << taken[i];
  EXPECT_TRUE(taken.empty()) << taken.size()
                             << " changed bytes were read without an error as other values, at offsets"
                             << offsets.str();
  EXPECT_TRUE(unexplained.empty()) << unexplained.size() << " changed bytes gave an error that is not "
                                   << "ringtrain's, the first: " << unexplained.front();
  EXPECT_GT(refused, 0);
  std::cout << refused + harmless << " of " << bytes.size() << " bytes changed one at a time: " << refused
            << " refused, " << harmless << " harmless\n";
}

}  // namespace
}  // namespace ringtrain
