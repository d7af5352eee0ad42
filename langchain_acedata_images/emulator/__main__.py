"""``python -m langchain_acedata_images.emulator``: serve the emulator (see :mod:`.cli`)."""

from .cli import main

raise SystemExit(main())
