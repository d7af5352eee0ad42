"""``python -m langchain_acedata_images``: see :mod:`langchain_acedata_images.cli`."""

from .cli import main

raise SystemExit(main())
