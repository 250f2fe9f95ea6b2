"""Exit 0 when two ringtrain checkpoints hold bitwise-equal parameters, state and optimizer slots.

usage: same_parameters.py A.h5 B.h5
"""
import sys

import h5py


def datasets(path):
    found = {}
    with h5py.File(path, "r") as checkpoint:
        def visit(name, item):
            if isinstance(item, h5py.Dataset) and name.split("/")[0] in ("parameters", "state", "optimizer"):
                found[name] = item[()].tobytes()
        checkpoint.visititems(visit)
    return found


def main():
    a, b = datasets(sys.argv[1]), datasets(sys.argv[2])
    differing = sorted(name for name in a.keys() | b.keys() if a.get(name) != b.get(name))
    if not a or differing:
        print("differ: " + (", ".join(differing) or "no datasets"))
        sys.exit(1)
    print(f"bitwise equal: {len(a)} datasets")


if __name__ == "__main__":
    main()
