"""The cloud launchers' output, checked without a cluster: the MPIJob and its volume claim, and the Vertex AI
job spec, parse as YAML, have the fields their services require, and ask for resources consistent with the
workers and GPUs requested; bad parameters are refused, and so is a job that train would refuse (a batch
that does not divide among the ranks, a bad option), with or without a ringtrain binary ($RINGTRAIN, default
SOURCE_DIR/build/ringtrain) here; the container recipe builds with the README's own scripts. Exit 77 (CTest: skipped) when Debian's python3-yaml is missing.

usage: manifests_test.py SOURCE_DIR
"""
import os
import subprocess
import sys

try:
    import yaml
except ImportError:
    print("SKIPPED: python3-yaml is not installed (scripts/setup.sh installs it)")
    sys.exit(77)

SOURCE = sys.argv[1]
failures = []


def check(condition, message):
    if not condition:
        failures.append(message)


BINARY = os.environ.get("RINGTRAIN") or os.path.join(SOURCE, "build", "ringtrain")


def run(script, *arguments, binary=BINARY):
    return subprocess.run([os.path.join(SOURCE, "launchers", "cloud", script), *arguments],
                          capture_output=True, text=True, env={**os.environ, "RINGTRAIN": binary})


def mpijob_checks(workers, gpus):
    result = run("make-mpijob", "--name", "codelab", "--workers", str(workers), "--gpus-per-worker", str(gpus),
                 "--image", "registry.example/ringtrain:1", "--", "--epochs", "3")
    check(result.returncode == 0, f"make-mpijob {workers}x{gpus} failed: {result.stderr}")
    documents = list(yaml.safe_load_all(result.stdout))
    kinds = [document["kind"] for document in documents]
    check(kinds == ["PersistentVolumeClaim", "MPIJob"], f"documents {kinds}")
    claim, job = documents
    check(job["apiVersion"] == "kubeflow.org/v2beta1", "MPIJob apiVersion")
    check(job["metadata"]["name"] == "codelab", "MPIJob name")
    spec = job["spec"]
    check(spec["slotsPerWorker"] == gpus, f"slotsPerWorker {spec['slotsPerWorker']} != {gpus}")
    launcher = spec["mpiReplicaSpecs"]["Launcher"]
    worker = spec["mpiReplicaSpecs"]["Worker"]
    check(launcher["replicas"] == 1, "one launcher")
    check(worker["replicas"] == workers, f"Worker replicas {worker['replicas']} != {workers}")
    worker_container = worker["template"]["spec"]["containers"][0]
    check(worker_container["resources"]["limits"]["nvidia.com/gpu"] == gpus, "GPUs per worker")
    check(worker_container.get("command", [None])[0] == "/usr/sbin/sshd", "workers must run sshd for the launcher")
    command = launcher["template"]["spec"]["containers"][0]["command"]
    check(command[:3] == ["mpirun", "-np", str(workers * gpus)], f"launcher command {command[:3]}")
    # Ranks started over ssh get no PATH from the image: the binary is named by its path there.
    check("/opt/ringtrain/build/ringtrain" in command, f"the binary by its path in the image: {command}")
    check("--resume" in command and command[command.index("--resume") + 1] == "auto", "--resume auto")
    run_dir = command[command.index("--run-dir") + 1]
    check(command[-2:] == ["--epochs", "3"], "train options passed on")
    for role, replica in (("Launcher", launcher), ("Worker", worker)):
        pod = replica["template"]["spec"]
        mounts = pod["containers"][0]["volumeMounts"]
        volumes = {volume["name"]: volume for volume in pod["volumes"]}
        runs = [mount for mount in mounts if mount["name"] == "runs"]
        check(len(runs) == 1 and run_dir.startswith(runs[0]["mountPath"] + "/"),
              f"{role}: the run directory {run_dir} is not on the runs volume")
        check(volumes["runs"]["persistentVolumeClaim"]["claimName"] == claim["metadata"]["name"],
              f"{role}: the runs volume is not the job's claim")
        check(replica["restartPolicy"] == "OnFailure", f"{role}: restartPolicy")
    check("ReadWriteMany" in claim["spec"]["accessModes"], "the claim must be shared by every pod")


def vertex_checks(gpus):
    result = run("make-vertex-job", "--name", "codelab", "--bucket", "bucket", "--image", "registry.example/r:1",
                 "--gpus", str(gpus))
    check(result.returncode == 0, f"make-vertex-job --gpus {gpus} failed: {result.stderr}")
    job = yaml.safe_load(result.stdout)
    pools = job["workerPoolSpecs"]
    check(len(pools) == 1 and pools[0]["replicaCount"] == 1, "one machine")
    machine = pools[0]["machineSpec"]
    check(machine["acceleratorCount"] == gpus, "acceleratorCount")
    check(machine["machineType"] == f"a3-highgpu-{gpus}g", f"machine type {machine['machineType']}")
    container = pools[0]["containerSpec"]
    check(container["imageUri"] == "registry.example/r:1", "imageUri")
    args = container["args"]
    check(args[:2] == ["--np", str(gpus)], f"one rank per GPU: {args[:2]}")
    check(args[args.index("--run-dir") + 1].startswith("/gcs/bucket/"), "run directory on the bucket")
    check(args[args.index("--resume") + 1] == "auto", "--resume auto")
    check(job["scheduling"]["restartJobOnWorkerRestart"] is True, "restart on worker restart")


for workers, gpus in ((1, 1), (2, 8), (4, 4)):
    mpijob_checks(workers, gpus)
for gpus in (1, 8):
    vertex_checks(gpus)
for arguments in (("--name", "x", "--workers", "0", "--image", "i"), ("--name", "Bad_Name", "--image", "i"),
                  ("--name", "x", "--workers", "2")):
    check(run("make-mpijob", *arguments).returncode != 0, f"make-mpijob accepted {arguments}")
check(run("make-vertex-job", "--name", "x", "--bucket", "b", "--image", "i", "--gpus", "3").returncode != 0,
      "make-vertex-job accepted 3 GPUs")
# A job that train would refuse, and that every pod restart would only repeat, is refused: experiment 9's
# batch of 64 does not divide among 3x8 ranks; a bad value or an option given twice, with the binary. Without
# a binary here, the batch is still checked and the rest is said to be skipped.
image = ("--image", "registry.example/ringtrain:1")
for binary in (BINARY, "/nonexistent/ringtrain"):
    refused = run("make-mpijob", "--name", "codelab", "--workers", "3", "--gpus-per-worker", "8", *image,
                  binary=binary)
    check(refused.returncode == 2 and refused.stdout == "" and "batch-size=64" in refused.stderr
          and "does not divide among its 24 ranks" in refused.stderr,
          f"make-mpijob 3x8 with a batch of 64 (binary {binary}): {refused.returncode} {refused.stderr}")
    refused = run("make-vertex-job", "--name", "x", "--bucket", "b", *image, "--gpus", "8", "--",
                  "--batch-size", "100", binary=binary)
    check(refused.returncode == 2 and "batch-size=100 (from train's options)" in refused.stderr,
          f"make-vertex-job, batch of 100 on 8 GPUs (binary {binary}): {refused.returncode} {refused.stderr}")
skipped = run("make-mpijob", "--name", "codelab", "--workers", "2", "--gpus-per-worker", "8", *image, "--",
              "--lr", "abc", binary="/nonexistent/ringtrain")
check(skipped.returncode == 0 and "make-mpijob: note: no ringtrain binary at /nonexistent/ringtrain" in skipped.stderr
      and "not checked" in skipped.stderr, f"make-mpijob without a binary: {skipped.returncode} {skipped.stderr}")
if os.access(BINARY, os.X_OK):
    for arguments, refusal in ((("--lr", "abc"), "would refuse the job: command line: the argument ('abc')"),
                               (("--lr", "0.1", "--lr=0.2"), "'--lr' cannot be specified more than once"),
                               (("--keep", "2", "--keep", "3"), "--keep is given twice")):
        refused = run("make-mpijob", "--name", "codelab", "--workers", "2", "--gpus-per-worker", "8", *image, "--",
                      *arguments)
        check(refused.returncode == 2 and refusal in refused.stderr,
              f"make-mpijob -- {' '.join(arguments)}: {refused.returncode} {refused.stderr}")
    # Train's own options are not summary's, and the GPUs are the cluster's, not this machine's.
    accepted = run("make-mpijob", "--name", "codelab", "--workers", "2", "--gpus-per-worker", "8", *image, "--",
                   "--device", "cuda", "--keep-best", "--keep", "2", "--csv", "/runs/codelab/m.csv")
    check(accepted.returncode == 0 and accepted.stderr == "", f"make-mpijob refused a good job: {accepted.stderr}")
else:
    print(f"NOTE: no ringtrain binary at {BINARY} (set RINGTRAIN): the checks that need one were skipped")
# The config file is the checkout's, as the image holds it: an absolute path within the checkout is given as its
# path there; a missing file, or one outside the checkout, is refused. Train's --run-dir and --resume are the
# job's own. Backslashes and quotes in train's options reach the job as written.
mpijob = ("make-mpijob", "--name", "codelab", "--workers", "1", "--gpus-per-worker", "2", *image)
absolute = run(*mpijob, "--config", os.path.join(os.path.realpath(SOURCE), "experiments", "03_relu_adam.ini"))
check(absolute.returncode == 0 and '"/opt/ringtrain/experiments/03_relu_adam.ini"' in absolute.stdout,
      f"make-mpijob with an absolute --config in the checkout: {absolute.returncode} {absolute.stderr}")
for config, refusal in (("experiments/nope.ini", "there is no such file in this checkout"),
                        ("/etc/hostname", "is not in this checkout")):
    for script, *arguments in (mpijob, ("make-vertex-job", "--name", "x", "--bucket", "b", *image)):
        refused = run(script, *arguments, "--config", config)
        check(refused.returncode == 2 and refusal in refused.stderr and refused.stdout == "",
              f"{script} --config {config}: {refused.returncode} {refused.stderr}")
for option in ("--run-dir", "--resume"):
    refused = run(*mpijob, "--", option, "/runs/other")
    check(refused.returncode == 2 and f"{option}: every start of the job gives train --run-dir" in refused.stderr,
          f"make-mpijob -- {option}: {refused.returncode} {refused.stderr}")
written = run(*mpijob, "--", "--csv", '/runs/a\\b "c".csv')
if written.returncode == 0:
    command = list(yaml.safe_load_all(written.stdout))[1]["spec"]["mpiReplicaSpecs"]["Launcher"]["template"][
        "spec"]["containers"][0]["command"]
    check(command[-1] == '/runs/a\\b "c".csv', f"a path with a backslash and quotes became {command[-1]!r}")
else:
    check(False, f"make-mpijob -- --csv with a backslash: {written.returncode} {written.stderr}")
equals = run("make-mpijob", "--name=codelab", "--workers=1", "--gpus-per-worker=2", "--image=i")
check(equals.returncode == 0 and "name: codelab\n" in equals.stdout, f"make-mpijob --name=VALUE: {equals.stderr}")
long_name = run("make-mpijob", "--name", "a" * 60, "--workers", "2", "--gpus-per-worker", "1", *image)
check(long_name.returncode == 2 and "has 69 characters, and Kubernetes allows 63" in long_name.stderr,
      f"make-mpijob with a 60-character name: {long_name.returncode} {long_name.stderr}")
bucket = run("make-vertex-job", "--name", "x", "--bucket", "gs://b", *image)
check(bucket.returncode == 2 and "give the bucket's name alone (b)" in bucket.stderr,
      f"make-vertex-job --bucket gs://b: {bucket.returncode} {bucket.stderr}")
for script, option in (("make-mpijob", "--workers"), ("make-vertex-job", "--bucket")):
    helped = run(script, "--help")
    check(helped.returncode == 0 and option in helped.stdout, f"{script} --help: {helped.stdout}{helped.stderr}")
    missing = run(script, "--name", "x", option)
    check(missing.returncode == 2 and f"{script}: error: {option} needs a value" in missing.stderr,
          f"{script} {option} without a value: {missing.returncode} {missing.stderr}")

with open(os.path.join(SOURCE, "launchers", "cloud", "Dockerfile")) as recipe:
    text = recipe.read()
check("scripts/setup.sh" in text and "scripts/build.sh" in text,
      "the container must build with the README's scripts/setup.sh and scripts/build.sh")
check("openssh-server" in text, "the container must have sshd for the MPIJob's workers")

if failures:
    print("FAILED:\n  " + "\n  ".join(failures))
    sys.exit(1)
print("manifests: MPIJob (1x1, 2x8, 4x4), Vertex AI (1, 8 GPUs), bad parameters refused, jobs train would refuse "
      "refused (with and without a binary), configs outside the checkout and the job's own options refused, "
      "quoting, --help, missing values named, Dockerfile uses setup.sh/build.sh")
