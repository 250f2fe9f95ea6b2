"""Writes a small MNIST-shaped directory of IDX files for tests: random 28x28 images with labels i % 10, or
with --learnable images a model learns in an epoch (class d: a bright square at place d of a 5x2 grid, on
noise) whose test labels are 5% wrong on purpose, so that a report has a few misclassified digits to show.

usage: fake_mnist.py DIR TRAIN_COUNT TEST_COUNT [--learnable]
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


def learnable_image(generator, label):
    top, left = 3 + (label // 5) * 12, 1 + (label % 5) * 5
    return bytes(255 - generator.randrange(60) if top <= y < top + 6 and left <= x < left + 6
                 else generator.randrange(60) for y in range(28) for x in range(28))


def write_all(directory, train, test, learnable):
    """Writes the four files into `directory`: `train` and `test` images and their labels."""
    os.makedirs(directory, exist_ok=True)
    generator = random.Random(7)
    for prefix, count in (("train", train), ("t10k", test)):
        labels = [i % 10 for i in range(count)]
        if learnable:
            pixels = b"".join(learnable_image(generator, label) for label in labels)
            if prefix == "t10k":
                labels = [(label + 1) % 10 if generator.random() < 0.05 else label for label in labels]
        else:
            pixels = bytes(generator.randrange(256) for _ in range(count * 28 * 28))
        write(directory, prefix + "-images-idx3-ubyte", 0x803, (count, 28, 28), pixels)
        write(directory, prefix + "-labels-idx1-ubyte", 0x801, (count,), bytes(labels))


def main():
    write_all(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), "--learnable" in sys.argv[4:])


if __name__ == "__main__":
    main()
