"""The uncertainty flags of `agrad eval`: --sigma, --sigma-suffix, --cov, --sigma-order."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import AgradError


@dataclass
class SpreadFlags:
    """What `--sigma`, `--sigma-suffix`, `--cov` and `--sigma-order` ask for."""

    sigma: list[str] | None
    suffix: str | None
    cov: str | None
    order: int | None

    @property
    def given(self) -> bool:
        """True when any uncertainty flag was given."""
        return bool(self.sigma or self.suffix or self.cov or self.order)

    def spread(self, graph, wrt: list[str] | None, batch: bool):
        """The inputs' uncertainties, every flag checked; None when none was given."""
        if not self.given:
            return None
        from ..engines.uncertainty import parse_spread, read_covariance
        from ..language.values import parse_assignments

        if not (self.sigma or self.suffix or self.cov):
            raise AgradError(
                "--sigma-order needs the inputs' uncertainties",
                None,
                "add --sigma NAME=VALUE ..., --cov FILE or --sigma-suffix",
            )
        if self.suffix is not None and not batch:
            raise AgradError(
                "--sigma-suffix names sigma columns of --at-file",
                None,
                "at one point, give --sigma NAME=VALUE",
            )
        if self.suffix is not None and self.cov:
            raise AgradError(
                "--sigma-suffix and --cov both give the inputs' uncertainties",
                None,
                "give one of them",
            )
        given = {n: v for n, (v, _) in parse_assignments(self.sigma or []).items()}
        cov = read_covariance(self.cov) if self.cov else None
        spread = parse_spread(graph, given, cov, self.order or 1, wrt)
        if batch:
            for name, v in spread.sigma.items():
                if v.ndim:
                    raise AgradError(
                        f"--sigma {name}: with --at-file each input is one number per point; "
                        f"a sigma of shape {v.shape} does not fit",
                        None,
                        f"give one number, or a column {name}{self.suffix or '_sd'}",
                    )
        return spread
