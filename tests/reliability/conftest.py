from tests.emulator_fixtures import _fresh_emulator, client, emulator

__all__ = ["_fresh_emulator", "client", "emulator"]
