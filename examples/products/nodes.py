"""`products.thumbnail`: the image step of the product pipeline (examples/products/README.md).

A product record carries no real image here: its pixels are generated from its `id` and `seed`
(the same record gives the same image in every process), then treated as an image would be —
downscaled 2× with a box filter, contrast-stretched, and summarised as a normalised 16-bin
intensity histogram, the feature vector the pipeline's code node compares with a reference."""

import random

from engine.errors import PERMANENT, NodeError
from nodes.registry import register_node

SIZE = 32  # generated images are SIZE × SIZE grey levels (0–255)
BINS = 16


def generate(product_id, seed):
    """The product's grey-level image, SIZE rows of SIZE pixels, from its id and seed."""
    rng = random.Random(f"{product_id}:{seed}")
    base = rng.randint(30, 200)
    return [[max(0, min(255, base + int(rng.gauss(0, 40)) + (x - y))) for x in range(SIZE)] for y in range(SIZE)]


def downscale(image):
    """Half the width and height: each pixel the mean of a 2 × 2 block."""
    return [[(image[y][x] + image[y][x + 1] + image[y + 1][x] + image[y + 1][x + 1]) // 4
             for x in range(0, len(image[0]) - 1, 2)] for y in range(0, len(image) - 1, 2)]


def stretch(image):
    """Contrast-stretch to the full 0–255 range."""
    low = min(min(row) for row in image)
    high = max(max(row) for row in image)
    span = max(1, high - low)
    return [[(value - low) * 255 // span for value in row] for row in image]


def histogram(image):
    counts = [0] * BINS
    for row in image:
        for value in row:
            counts[min(BINS - 1, value * BINS // 256)] += 1
    total = sum(counts)
    return [round(count / total, 5) for count in counts]


@register_node(
    type="products.thumbnail",
    version=1,
    title="Product thumbnail features",
    category="products",
    # Pure computation of a few milliseconds, no network, no user code: it runs in the worker that
    # made it ready, in the same transaction, like flow and data nodes.
    instant=True,
    params_schema={
        "type": "object",
        "properties": {"product": {"type": "object", "title": "Product record ({id, seed, …})"}},
        "required": ["product"],
        "additionalProperties": False,
    },
)
def thumbnail(call):
    """Generates the product's image, downscales and stretches it, and outputs its histogram features."""
    product = call.params["product"]
    if not isinstance(product, dict) or "id" not in product:
        raise NodeError("product must be a record with an id", PERMANENT, code="products.invalid_record")
    image = stretch(downscale(generate(product["id"], product.get("seed", 0))))
    return {"id": product["id"], "size": [len(image[0]), len(image)], "features": histogram(image)}
