"""Damaged input never crashes ringtrain: config files, MNIST files, checkpoints and metrics.h5 are changed at
random (from a fixed seed, so a failure repeats), and every run must either succeed or fail with exit code 1
and a "ringtrain: error:" line; never a signal, a hang, an internal error or a sanitizer report.

usage: damaged_input_test.py RINGTRAIN SOURCE_DIR WORK_DIR [CASES_PER_KIND] [SEED]
"""
import os
import random
import re
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "launchers"))
import fake_mnist  # noqa: E402  (tests/launchers/fake_mnist.py)

ODD_VALUES = ["-1", "0", "1e309", "nan", "inf", "-0", "99999999999999999999", "1.5", "", "abc",
              "2147483648", "4294967297", "0x10", " ", "1,", ",", "1,,1", "28,28,1,1", "0,0,0", "-28,28,1",
              "1e-320", "true", "=", "==", "\u00e9", "1 2", "65536", "7"]
LAYER_KEYS = ["units", "filters", "kernel_size", "strides", "padding", "use_bias", "activation", "center",
              "scale", "momentum", "epsilon", "rate", "pool_size", "target_shape", "bogus"]
EXTRA_LINES = ["layer = max_pooling2d pool_size={}", "layer = global_average_pooling2d",
               "layer = dense units={}", "layer = conv2d filters=4 kernel_size={} strides={}",
               "layer = reshape {}", "layer = activation {}", "layer = batch_normalization momentum={}",
               "layer = dropout {}", "batch-size = {}", "epochs = {}", "optimizer = {}", "lr-decay = {}",
               "momentum = {}", "input-shape = {}", "= {}", "threads = {}", "bucket-kib = {}",
               "log-every = {}", "keep = {}", "checkpoint-every = {}", "warmup-epochs = {}"]


def changed_config(rng, text):
    """A config file with one to three random edits: values, keys, lines."""
    lines = text.split("\n")
    for _ in range(rng.randint(1, 3)):
        if not lines:
            lines = [""]
        i = rng.randrange(len(lines))
        kind = rng.randrange(6)
        if kind == 0:
            numbers = list(re.finditer(r"[0-9.]+", lines[i]))
            if numbers:
                m = rng.choice(numbers)
                lines[i] = lines[i][:m.start()] + rng.choice(ODD_VALUES) + lines[i][m.end():]
        elif kind == 1:
            del lines[i]
        elif kind == 2:
            lines.insert(i, lines[rng.randrange(len(lines))])
        elif kind == 3 and lines[i].startswith("layer"):
            lines[i] += " " + rng.choice(LAYER_KEYS) + "=" + rng.choice(ODD_VALUES)
        elif kind == 4:
            words = lines[i].split(" ")
            words[rng.randrange(len(words))] = rng.choice(ODD_VALUES + LAYER_KEYS + ["layer", "dense"])
            lines[i] = " ".join(words)
        else:
            line = rng.choice(EXTRA_LINES)
            lines.insert(i, line.format(*(rng.choice(ODD_VALUES) for _ in range(line.count("{}")))))
    return "\n".join(lines)


def changed_bytes(rng, data, header=16):
    """`data` with one to three bytes flipped, words overwritten or the end cut, mostly in its first bytes."""
    b = bytearray(data)
    for _ in range(rng.randint(1, 3)):
        at = rng.randrange(min(header, len(b))) if rng.random() < 0.6 else rng.randrange(len(b))
        kind = rng.randrange(4)
        if kind == 0:
            b[at] ^= 1 << rng.randrange(8)
        elif kind == 1:
            b[at:at + 4] = rng.choice([b"\xff\xff\xff\xff", b"\x00\x00\x00\x00", b"\x7f\xff\xff\xff"])
        elif kind == 2:
            del b[rng.randrange(len(b)):]
        else:
            b[at] = rng.randrange(256)
        if not b:
            b = bytearray(b"\x00")
    return bytes(b)


class Runner:
    def __init__(self, ringtrain, work):
        self.ringtrain, self.work, self.failures, self.counts = ringtrain, work, [], {}

    def run(self, kind, arguments, keep):
        """Runs ringtrain; a crash, hang or unexplained failure is recorded with a copy of its input."""
        try:
            result = subprocess.run([self.ringtrain] + arguments, capture_output=True, timeout=120,
                                    text=True, errors="replace")
            code, err = result.returncode, result.stderr
        except subprocess.TimeoutExpired:
            code, err = "timeout", ""
        explained = code == 0 or (code == 1 and "ringtrain: error:" in err)
        unwanted = ("internal error", "AddressSanitizer", "runtime error:", "terminate called")
        if not explained or any(word in err for word in unwanted):
            copy = os.path.join(self.work, "failed-%s-%d" % (kind, len(self.failures)))
            if os.path.isdir(keep):
                shutil.copytree(keep, copy)
            else:
                shutil.copy(keep, copy)
            self.failures.append("%s: exit %s, input kept in %s: ringtrain %s\n  %s" % (
                kind, code, copy, " ".join(arguments), err.strip()[-500:].replace("\n", "\n  ")))
        self.counts.setdefault(kind, [0, 0])[0 if code == 0 else 1] += 1


def main():
    ringtrain, source, work = sys.argv[1:4]
    cases = int(sys.argv[4]) if len(sys.argv) > 4 else 40
    rng = random.Random(int(sys.argv[5]) if len(sys.argv) > 5 else 1)
    shutil.rmtree(work, ignore_errors=True)
    data = os.path.join(work, "mnist")
    fake_mnist.write_all(data, 256, 100, False)
    runner = Runner(ringtrain, work)
    experiments = sorted(os.path.join(source, "experiments", f)
                         for f in os.listdir(os.path.join(source, "experiments")))

    # Config files: summary, and a short training on the fake data.
    config = os.path.join(work, "changed.ini")
    for _ in range(cases):
        with open(config, "w", encoding="utf-8") as out:
            out.write(changed_config(rng, open(rng.choice(experiments)).read()))
        command = rng.choice([["summary"], ["train", "--epochs", "1", "--threads", "1", "--data", data]])
        runner.run("config", command + ["--config", config], config)

    # A run directory with a checkpoint and metrics to damage.
    run_dir = os.path.join(work, "run")
    subprocess.run([ringtrain, "train", "--config", experiments[-1], "--data", data, "--epochs", "1",
                    "--threads", "1", "--batch-size", "64", "--run-dir", run_dir],
                   check=True, capture_output=True)
    checkpoint = sorted(f for f in os.listdir(run_dir) if f.startswith("checkpoint-"))[-1]
    originals = {name: open(os.path.join(run_dir, name), "rb").read() for name in (checkpoint, "metrics.h5")}
    damaged = os.path.join(work, "damaged-run")
    for _ in range(cases):
        shutil.rmtree(damaged, ignore_errors=True)
        os.makedirs(damaged)
        victim = rng.choice([checkpoint, "metrics.h5"])
        for name, data_bytes in originals.items():
            with open(os.path.join(damaged, name), "wb") as out:
                out.write(changed_bytes(rng, data_bytes, 4096) if name == victim else data_bytes)
        path = os.path.join(damaged, checkpoint)
        if victim == checkpoint:
            command = rng.choice([["evaluate", "--checkpoint", path, "--data", data, "--threads", "1"],
                                  ["train", "--config", experiments[-1], "--run-dir", damaged, "--resume",
                                   "auto", "--data", data, "--epochs", "2", "--threads", "1"]])
        else:
            command = rng.choice([["report", damaged, "--data", data, "--threads", "1"],
                                  ["train", "--config", experiments[-1], "--run-dir", damaged, "--resume",
                                   path, "--data", data, "--epochs", "2", "--threads", "1"]])
        runner.run("run-directory", command, damaged)

    # MNIST files, raw: train, evaluate and predict.
    names = sorted(os.listdir(data))
    originals = {name: open(os.path.join(data, name), "rb").read() for name in names}
    changed_data = os.path.join(work, "changed-mnist")
    for _ in range(cases):
        shutil.rmtree(changed_data, ignore_errors=True)
        os.makedirs(changed_data)
        victim = rng.choice(names)
        for name, data_bytes in originals.items():
            with open(os.path.join(changed_data, name), "wb") as out:
                out.write(changed_bytes(rng, data_bytes) if name == victim else data_bytes)
        command = rng.choice([
            ["train", "--config", experiments[0], "--epochs", "1", "--batch-size", "64", "--threads", "1",
             "--data", changed_data],
            ["evaluate", "--checkpoint", os.path.join(run_dir, checkpoint), "--threads", "1", "--data",
             changed_data],
            ["predict", "--checkpoint", os.path.join(run_dir, checkpoint), "--threads", "1", "--images",
             os.path.join(changed_data, "t10k-images-idx3-ubyte")]])
        runner.run("mnist", command, changed_data)

    for kind, (succeeded, refused) in sorted(runner.counts.items()):
        print("%-14s %3d runs: %3d succeeded, %3d refused with an error" % (kind, succeeded + refused,
                                                                         succeeded, refused))
    for failure in runner.failures:
        print("FAILED " + failure)
    return 1 if runner.failures else 0


if __name__ == "__main__":
    sys.exit(main())
