"""Option declarations and parsers shared by several commands."""
import typer

from lsnet.errors import InvalidResolutionError, UnknownOptionError

NumClassesOption = typer.Option(
    None, "--num-classes", help="Classes of the head (default: the checkpoint head's; 1000 without weights).", min=1
)
RandomHeadOption = typer.Option(
    False, "--random-head", help="Replace a checkpoint head of another class count with a RANDOM one (untrained)."
)
LabelsOption = typer.Option(None, "--labels", help="Class names: a text file (one per line) or a JSON list, in head order.")
ImgSizeOption = typer.Option("224", "--img-size", help="Input size: N or HxW (multiple of 8, 64 to 4096).")


def parse_size(text: str) -> int | tuple[int, int]:
    """'224' -> 224, '256x192' -> (256, 192), checked like ``create_model`` does; one clear error otherwise."""
    from lsnet.factory import parse_img_size

    parts = text.lower().replace(",", "x").split("x")
    try:
        values = [int(p) for p in parts]
    except ValueError:
        raise InvalidResolutionError(f"--img-size '{text}' is not a size: use N or HxW, e.g. 224 or 256x192.") from None
    if len(values) in (1, 2):
        parse_img_size(values[0] if len(values) == 1 else tuple(values))
        return values[0] if len(values) == 1 else (values[0], values[1])
    raise InvalidResolutionError(f"--img-size '{text}' is not a size: use N or HxW.")


def parse_int_list(text: str, option: str) -> list[int]:
    """'1,8,32' -> [1, 8, 32], each >= 1."""
    try:
        values = [int(p) for p in text.split(",") if p.strip()]
    except ValueError:
        raise UnknownOptionError(f"{option} '{text}' must be comma-separated integers, e.g. 1,8,32.") from None
    if not values or any(v < 1 for v in values):
        raise UnknownOptionError(f"{option} '{text}': every value must be >= 1.")
    return values
