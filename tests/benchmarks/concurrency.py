from ._common import BenchResult


def run(quick: bool) -> BenchResult:
    raise NotImplementedError
