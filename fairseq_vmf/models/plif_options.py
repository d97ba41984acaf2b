"""Command-line options of the LMS-PLIF softmax models (shared by the Transformer and LSTM)."""

from ..errors import InputError
from ..maths.piecewise_linear import OUTSIDE
from ..modules import MonotonicLogits


def add_plif_args(parser) -> None:
    # defaults: the paper's K = 1e5 and T = 20 (Ganea et al. 2019, as reported by
    # Parthiban et al. 2021, supplement section 2.2), identity start, one learning rate
    parser.add_argument("--plif-knots", type=int, metavar="K",
                        help="number of linear pieces of f over [-T, T] (paper: 100000)")
    parser.add_argument("--plif-range", type=float, metavar="T",
                        help="f is learnt on [-T, T] (paper: 20)")
    parser.add_argument("--plif-outside", choices=OUTSIDE,
                        help="f beyond [-T, T]: 'linear' continues the end slopes (the authors' code), "
                             "'constant' saturates")
    parser.add_argument("--plif-init-std", type=float, metavar="S",
                        help="std of the initial raw slopes around the identity (0: f starts as the "
                             "identity, so the model starts as plain softmax; authors' code: 1)")
    parser.add_argument("--plif-lr-scale", type=float, metavar="C",
                        help="PLIF's parameters take steps about C times the model's (Adam)")


def set_plif_defaults(args) -> None:
    for name, value in (("plif_knots", 100_000), ("plif_range", 20.0), ("plif_outside", "linear"),
                        ("plif_init_std", 0.0), ("plif_lr_scale", 1.0)):
        if getattr(args, name, None) is None:
            setattr(args, name, value)


def monotonic_logits_from_args(args) -> MonotonicLogits:
    """The PLIF layer the options describe; bad values name their flag."""
    if args.plif_knots < 1:
        raise InputError(f"--plif-knots must be at least 1, got {args.plif_knots}")
    if not args.plif_range > 0:
        raise InputError(f"--plif-range must be positive, got {args.plif_range}")
    if not args.plif_lr_scale > 0:
        raise InputError(f"--plif-lr-scale must be positive, got {args.plif_lr_scale}")
    if args.plif_init_std < 0:
        raise InputError(f"--plif-init-std must be >= 0, got {args.plif_init_std}")
    return MonotonicLogits(args.plif_knots, args.plif_range, args.plif_outside,
                           args.plif_init_std, args.plif_lr_scale)
