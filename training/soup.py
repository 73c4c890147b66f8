"""Average the weights of fine-tuned checkpoints of one model ("model soup").

Two runs from the same start sit in one basin, so their weight average keeps what each learned:
stage 4 of the recipe averages a GoEmotions-weighted run with its airline-weighted continuation,
which on validation kept the first's emotions and the second's customer-service sentiment.

    python -m training.soup A.pt B.pt [C.pt ...] --out SOUP.pt [--weights 0.5 0.5]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch


def soup(paths: list[Path], weights: list[float]) -> dict[str, torch.Tensor]:
    """The weighted average of floating-point tensors (others are taken from the first checkpoint)."""
    states = [torch.load(p, map_location="cpu") for p in paths]
    if len({frozenset(s) for s in states}) != 1:
        raise SystemExit("the checkpoints do not have the same parameters")
    total = sum(weights)
    out: dict[str, torch.Tensor] = {}
    for name, first in states[0].items():
        if first.is_floating_point():
            out[name] = sum(w / total * s[name].float() for w, s in zip(weights, states, strict=True))  # type: ignore[assignment]
        else:
            out[name] = first
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("checkpoints", type=Path, nargs="+")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--weights", type=float, nargs="*", default=None, help="one per checkpoint (default: equal)")
    args = ap.parse_args()
    weights = args.weights or [1.0] * len(args.checkpoints)
    if len(weights) != len(args.checkpoints):
        raise SystemExit("give one weight per checkpoint")
    torch.save(soup(args.checkpoints, weights), args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
