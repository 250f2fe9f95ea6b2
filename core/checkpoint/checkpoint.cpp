// Checkpoint files: writing (atomically), reading back with verification, and restoring into a model.
#include "core/checkpoint/checkpoint.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <ctime>
#include <limits>
#include <sstream>

#include "core/atomic_write.hpp"
#include "core/check.hpp"
#include "core/checkpoint/file_seal.hpp"
#include "core/checkpoint/hdf5_file.hpp"
#include "core/checkpoint/run_directory.hpp"

namespace ringtrain {

namespace {

constexpr const char* kFormat = "ringtrain checkpoint";
constexpr std::int64_t kMostCount = std::numeric_limits<std::int64_t>::max();

// Syncs a file or directory to disk; errors name it.
void sync_path(const std::filesystem::path& path, bool directory) {
  const int descriptor = ::open(path.c_str(), directory ? O_RDONLY | O_DIRECTORY : O_RDONLY);
  const int open_error = errno;
  RT_CHECK(descriptor >= 0,
           "cannot open " << path.string() << " to sync it to disk (" << std::strerror(open_error) << ")");
  const int result = ::fsync(descriptor);
  const int sync_error = errno;
  ::close(descriptor);
  RT_CHECK(result == 0, "cannot sync " << path.string() << " to disk (" << std::strerror(sync_error) << ")");
}

void write_tensor(Hdf5File& file, const std::string& name, const Tensor& tensor) {
  const Tensor host = tensor.device() == Device::cpu ? tensor : tensor.to(Device::cpu);
  const float* values = host.data<float>();
  for (std::int64_t i = 0; i < host.numel(); ++i) {
    RT_CHECK(std::isfinite(values[i]),
             name << " holds " << values[i] << " at index " << i
                  << ": the training diverged (no run can resume from it); lower the "
                  << "learning rate (lr) and resume from an earlier checkpoint");
  }
  file.write(name, host.shape().dims().empty() ? std::vector<std::int64_t>{1} : host.shape().dims(),
             host.data<float>());
}

void write_scalar(Hdf5File& file, const std::string& name, std::int64_t value) {
  file.write(name, {1}, &value);
}

void write_scalar(Hdf5File& file, const std::string& name, double value) {
  file.write(name, {1}, &value);
}

std::int64_t read_integer(const Hdf5File& file, const std::string& name) {
  const auto array = file.read_int64s(name);
  RT_CHECK(array.values.size() == 1,
           file.path().string() << ": " << name << " should hold one value, not " << array.values.size());
  return array.values[0];
}

double read_real(const Hdf5File& file, const std::string& name) {
  const auto array = file.read_doubles(name);
  RT_CHECK(array.values.size() == 1,
           file.path().string() << ": " << name << " should hold one value, not " << array.values.size());
  return array.values[0];
}

// A dataset's values as a run can have written them: finite, and no moving variance below zero.
void check_values(const Hdf5File& file, const std::string& name, const std::vector<float>& values) {
  const bool variance = name.ends_with("moving_variance");
  for (std::size_t i = 0; i < values.size(); ++i) {
    RT_CHECK(
        std::isfinite(values[i]) && !(variance && values[i] < 0),
        file.path().string() << ": " << name << " holds " << values[i] << " at index " << i
                             << (variance ? " (a variance must be finite and not negative)" : " (not finite)")
                             << ": the file was damaged or altered; resume from another checkpoint");
  }
}

// `value` of dataset `name`, if it lies in [low, high]; else an error naming the file, the dataset and it.
template <typename Number>
Number in_range(const Hdf5File& file, const std::string& name, Number value, Number low, Number high) {
  RT_CHECK(value >= low && value <= high,
           file.path().string() << ": " << name << " = " << value << " is outside [" << low << ", " << high
                                << "]: the file was damaged or altered; resume from "
                                << "another checkpoint");
  return value;
}

// An integer dataset that counts something (steps, samples, epochs): from 0 to `high`.
std::int64_t read_count(const Hdf5File& file, const std::string& name, std::int64_t high = kMostCount) {
  return in_range<std::int64_t>(file, name, read_integer(file, name), 0, high);
}

std::string shape_text(const std::vector<std::int64_t>& dims) {
  return to_string(Shape(dims));
}

// Checks the format and schema attributes: the errors that say "not ours" or "too new" come first.
void check_format(const Hdf5File& file) {
  const auto format = file.text_attribute("format");
  RT_CHECK(format && *format == kFormat, file.path().string()
                                             << " is an HDF5 file but not a ringtrain checkpoint "
                                             << "(no format=\"" << kFormat << "\" attribute)");
  const auto schema = file.integer_attribute("schema_version");
  RT_CHECK(schema.has_value(), file.path().string() << ": the schema_version attribute is missing");
  if (*schema <= kCheckpointSchema) return;
  std::ostringstream message;
  message << file.path().string() << ": schema_version " << *schema << " was written by a newer ringtrain ("
          << file.text_attribute("ringtrain_version").value_or("?") << "); this ringtrain reads schema "
          << kCheckpointSchema << " and older: upgrade ringtrain to read it";
  throw NewerCheckpointError(message.str());
}

// A checkpoint opened for reading once its seal and format are checked.
Hdf5File open_checkpoint(const std::filesystem::path& path) {
  RT_CHECK(std::filesystem::exists(path), "the checkpoint " << path.string() << " does not exist");
  if (std::filesystem::is_directory(path)) {
    const auto held = list_checkpoints(path);
    RT_FAIL(path.string() << " is a directory, not a checkpoint file: "
                          << (held.empty() ? std::string("it holds no checkpoint-<step>.h5")
                                           : "its newest checkpoint is " + held.back().string()));
  }
  check_file_seal(path);
  Hdf5File file = Hdf5File::open_for_reading(path);
  check_format(file);
  return file;
}

}  // namespace

std::string utc_timestamp() {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm parts{};
  gmtime_r(&now, &parts);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &parts);
  return text;
}

void write_checkpoint(const std::filesystem::path& path, Sequential& model, Optimizer& optimizer,
                      const CheckpointInfo& info, const std::function<void()>& before_rename) {
  const std::filesystem::path directory = path.parent_path().empty() ? "." : path.parent_path();
  const std::filesystem::path temporary = temporary_path_for(path);
  bool in_place = false;  // renamed over `path`: only the directory's sync was left
  try {
    Hdf5File file = Hdf5File::create(temporary, kSealBytes);
    file.set_attribute("format", std::string(kFormat));
    file.set_attribute("schema_version", kCheckpointSchema);
    file.set_attribute("ringtrain_version", info.ringtrain_version);
    file.set_attribute("world_size", info.world_size);
    file.set_attribute("created", info.created.empty() ? utc_timestamp() : info.created);
    file.set_attribute("optimizer", info.optimizer);
    file.set_attribute("config", info.config_text);
    for (const auto& parameter : model.parameters().parameters())
      write_tensor(file, "parameters/" + parameter->name, parameter->value);
    for (const auto& state : model.state())
      write_tensor(file, "state/" + state.name, state.value);
    for (const auto& slot : optimizer.state())
      write_tensor(file, "optimizer/" + slot.name, slot.value);
    write_scalar(file, "optimizer/steps", optimizer.steps());
    const TrainingPosition& position = info.position;
    write_scalar(file, "training/epoch", position.epoch);
    write_scalar(file, "training/step", position.step);
    write_scalar(file, "training/global_step", position.global_step);
    write_scalar(file, "training/samples_seen", position.samples_seen);
    write_scalar(file, "training/seed", static_cast<std::int64_t>(position.seed));
    write_scalar(file, "training/loss_sum", position.loss_sum);
    write_scalar(file, "training/correct", position.correct);
    write_scalar(file, "training/seen", position.seen);
    write_scalar(file, "training/val_accuracy", info.val_accuracy);
    file.flush();
    file.close();
    seal_file(temporary);
    sync_path(temporary, false);
    if (before_rename) before_rename();
    std::filesystem::rename(temporary, path);
    in_place = true;
    sync_path(directory, true);
  } catch (const Error& error) {
    if (in_place) RT_FAIL("the checkpoint " << path.string() << " is in place, but then: " << error.what());
    std::error_code ignored;
    std::filesystem::remove(temporary, ignored);
    RT_FAIL("writing the checkpoint "
            << path.string()
            << " failed; the files already in its directory are unchanged: " << error.what());
  } catch (...) {
    std::error_code ignored;
    std::filesystem::remove(temporary, ignored);
    throw;
  }
}

CheckpointInfo read_checkpoint(const std::filesystem::path& path) {
  const Hdf5File file = open_checkpoint(path);
  CheckpointInfo info;
  info.schema_version = *file.integer_attribute("schema_version");
  info.ringtrain_version = file.text_attribute("ringtrain_version").value_or("");
  info.world_size = file.integer_attribute("world_size").value_or(1);
  info.created = file.text_attribute("created").value_or("");
  info.optimizer = file.text_attribute("optimizer").value_or("");
  info.config_text = file.text_attribute("config").value_or("");
  // Every dataset is read once, so that a checksum failure anywhere shows now rather than at restore.
  for (const std::string group : {"parameters", "state", "optimizer"}) {
    for (const auto& name : file.datasets_under(group)) {
      if (name != "optimizer/steps") check_values(file, name, file.read_floats(name).values);
    }
  }
  RT_CHECK(!file.datasets_under("parameters").empty(), path.string() << ": no parameters/ datasets");
  read_count(file, "optimizer/steps");
  TrainingPosition& position = info.position;
  position.epoch = read_count(file, "training/epoch");
  position.step = read_count(file, "training/step");
  position.global_step = read_count(file, "training/global_step");
  position.samples_seen = read_count(file, "training/samples_seen");
  position.seed = static_cast<std::uint64_t>(read_integer(file, "training/seed"));
  position.seen = read_count(file, "training/seen");
  position.correct = read_count(file, "training/correct", position.seen);
  position.loss_sum = in_range(file, "training/loss_sum", read_real(file, "training/loss_sum"), 0.0,
                               std::numeric_limits<double>::max());
  // -1: no validation yet
  info.val_accuracy =
      in_range(file, "training/val_accuracy", read_real(file, "training/val_accuracy"), -1.0, 1.0);
  return info;
}

StoredRun checkpoint_run(const std::filesystem::path& path) {
  const Hdf5File file = open_checkpoint(path);
  const auto text = file.text_attribute("config");
  RT_CHECK(text && !text->empty(), path.string()
                                       << ": the checkpoint holds no configuration (attribute config)");
  return StoredRun{*text, file.integer_attribute("world_size").value_or(1)};
}

void restore_checkpoint(const std::filesystem::path& path, Sequential& model, Optimizer* optimizer) {
  const Hdf5File file = open_checkpoint(path);
  // First every shape is checked, then values are loaded: a mismatch leaves the model as it was.
  struct Load {
    Tensor destination;
    std::string dataset;
  };
  std::vector<Load> loads;
  for (const auto& parameter : model.parameters().parameters())
    loads.push_back({parameter->value, "parameters/" + parameter->name});
  for (const auto& state : model.state())
    loads.push_back({state.value, "state/" + state.name});
  if (optimizer != nullptr) {
    for (const auto& slot : optimizer->state())
      loads.push_back({slot.value, "optimizer/" + slot.name});
  }
  std::vector<Hdf5Array<float>> arrays;
  for (const auto& load : loads) {
    RT_CHECK(file.exists(load.dataset),
             path.string() << ": the model has " << load.dataset << " " << to_string(load.destination.shape())
                           << " but the checkpoint has no such dataset: it was written for another "
                           << (load.dataset.starts_with("optimizer/") ? "optimizer" : "architecture"));
    arrays.push_back(file.read_floats(load.dataset));
    check_values(file, load.dataset, arrays.back().values);
    const auto& stored = arrays.back().shape;
    const auto expected = load.destination.shape().dims().empty() ? std::vector<std::int64_t>{1}
                                                                  : load.destination.shape().dims();
    RT_CHECK(stored == expected, path.string() << ": " << load.dataset << " has shape " << shape_text(stored)
                                               << " in the checkpoint but " << shape_text(expected)
                                               << " in the model: the checkpoint was written for another "
                                               << "architecture");
  }
  const std::int64_t steps = read_count(file, "optimizer/steps");
  for (std::size_t i = 0; i < loads.size(); ++i) {
    Tensor& destination = loads[i].destination;
    destination.copy_from(Tensor::from_vector(destination.shape(), arrays[i].values));  // waits for a GPU
  }
  if (optimizer != nullptr) optimizer->set_steps(steps);
}

}  // namespace ringtrain
