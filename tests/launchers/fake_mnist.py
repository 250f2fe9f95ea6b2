"""Writes a small MNIST-shaped directory of IDX files (random 28x28 images, labels i % 10) for launcher tests.

usage: fake_mnist.py DIR TRAIN_COUNT TEST_COUNT
"""
import os
import random
import struct
import sys


def write(directory, name, magic, dims, payload):
    with open(os.path.join(directory, name), "wb") as out:
        out.write(struct.pack(">I", magic))
        for dim in dims:
            out.write(struct.pack(">I", dim))
        out.write(payload)


def main():
    directory, train, test = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    os.makedirs(directory, exist_ok=True)
    generator = random.Random(7)
    for prefix, count in (("train", train), ("t10k", test)):
        pixels = bytes(generator.randrange(256) for _ in range(count * 28 * 28))
        labels = bytes(i % 10 for i in range(count))
        write(directory, prefix + "-images-idx3-ubyte", 0x803, (count, 28, 28), pixels)
        write(directory, prefix + "-labels-idx1-ubyte", 0x801, (count,), labels)


if __name__ == "__main__":
    main()
