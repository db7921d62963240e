"""``lsnet models`` and ``lsnet info``."""
import json

import typer

from lsnet.commands.options import ImgSizeOption, parse_size


def models() -> None:
    """List the LSNet variants and the SKA formulations."""
    from lsnet import list_models, list_ska
    from lsnet.variants import VARIANTS

    for name in list_models():
        v = VARIANTS[name]
        typer.echo(f"{name:18s} dims {v.embed_dim} depths {v.depth}{'  (distilled)' if v.distillation else ''}")
    typer.echo("\nSKA formulations:")
    for name, text in list_ska().items():
        typer.echo(f"  {name:10s} {text}")


def info(
    name: str = typer.Argument(..., help="Model name, e.g. lsnet_t."),
    img_size: str = ImgSizeOption,
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Parameters, MACs (SKA counted as a KxK depthwise conv, as the paper does) and stage shapes."""
    from lsnet import create_model
    from lsnet.profile import profile
    from lsnet.variants import VARIANTS

    model = create_model(name, img_size=parse_size(img_size))
    p = profile(model)
    variant = VARIANTS[name]
    data = {
        "model": name,
        "img_size": list(model.img_size),
        "params": p.params,
        "params_fused": p.params_fused,
        "macs": p.macs,
        "stage_shapes": [list(s) for s in p.stage_shapes],
        "paper": {"params_M": variant.paper_params_m, "macs_G": variant.paper_macs_g},
    }
    if as_json:
        typer.echo(json.dumps(data, indent=2))
        return
    typer.echo(f"{name} at {model.img_size[0]}x{model.img_size[1]}")
    typer.echo(f"  params       {p.params / 1e6:.2f} M ({p.params_fused / 1e6:.2f} M after reparameterize; paper {variant.paper_params_m} M)")
    typer.echo(f"  MACs         {p.macs / 1e9:.3f} G (paper {variant.paper_macs_g} G at 224)")
    for i, shape in enumerate(p.stage_shapes):
        typer.echo(f"  stage {i + 1}      {shape[0]} x {shape[1]} x {shape[2]} (stride {8 * 2**i})")
