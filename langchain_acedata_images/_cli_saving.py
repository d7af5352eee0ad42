"""Saving a finished job's images for the command line, without ever losing one.

The job has succeeded (and was billed) by the time anything is saved, so a failure here must
not cost the images: when ``--out`` cannot take them they go to a fresh temporary folder,
and when even that fails the result keeps their URLs and base64 data. A ``--name`` that
cannot be applied leaves the file under its first name. Every such problem comes back as
one sentence naming where the images are; the caller prints it and exits non-zero.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import ImageDownloadError
from .results import ImageGenerationResult
from .storage import save_images


@dataclass(frozen=True)
class Saved:
    """The result to print and, when the images are not where asked, why and where they are.

    ``keep_b64`` is set when base64 data is the only copy of an image (it is then printed).
    """

    result: ImageGenerationResult
    problem: str | None = None
    keep_b64: bool = False


def save_for_cli(
    result: ImageGenerationResult, out: Path, name: str | None, **options: Any
) -> Saved:
    """Save ``result``'s images in ``out`` (named ``name`` when given); ``options`` go to
    :func:`~.storage.save_images` (download limits and trusted origins)."""
    try:
        saved = save_images(result, out, **options)
    except ImageDownloadError as error:
        return _save_elsewhere(result, f"could not be saved in {out} ({error.message})", options)
    if name is None:
        return Saved(saved)
    return _rename(saved, out, name)


def _save_elsewhere(result: ImageGenerationResult, why: str, options: dict[str, Any]) -> Saved:
    folder = Path(tempfile.mkdtemp(prefix="acedata-images-"))
    try:
        saved = save_images(result, folder, **options)
    except ImageDownloadError as error:
        _remove_empty(folder)
        return Saved(result, _unsaved(result, why, error.message), keep_b64=True)
    paths = ", ".join(image.path for image in saved.images if image.path)
    return Saved(saved, f"The job succeeded, but its images {why}; they are kept in {paths}.")


def _unsaved(result: ImageGenerationResult, why: str, again: str) -> str:
    urls = [image.url for image in result.images if image.url]
    where = f"their URLs: {', '.join(urls)}" if urls else "the base64 data printed above"
    if urls and len(urls) < len(result.images):
        where += " (and the base64 data printed above)"
    return (
        f"The job succeeded, but its images {why}, nor in a temporary folder ({again}); "
        f"get them from {where}."
    )


def _remove_empty(folder: Path) -> None:
    with contextlib.suppress(OSError):  # not empty, or already gone: leave it
        folder.rmdir()


def _rename(result: ImageGenerationResult, out: Path, name: str) -> Saved:
    """Give the saved files the name asked for (replacing files of that name)."""
    images = list(result.images)
    saved = [index for index, image in enumerate(images) if image.path]
    problems = []
    for number, index in enumerate(saved, 1):
        current = Path(str(images[index].path))
        suffix = f"-{number}" if len(saved) > 1 else ""
        target = out / f"{name}{suffix}{current.suffix}"
        try:
            os.replace(current, target)
        except OSError as exc:
            problems.append(f"{target} ({exc.strerror or exc}): it is kept as {current}")
            continue
        images[index] = images[index].model_copy(update={"path": str(target)})
    renamed = result.model_copy(update={"images": images})
    if not problems:
        return Saved(renamed)
    problem = "; ".join(problems)
    return Saved(renamed, f"The job succeeded, but --name could not be applied to {problem}.")


__all__ = ["Saved", "save_for_cli"]
