"""Flask blueprints: ``voice`` (the phone tree), ``nurse`` (transfers, messages), ``audio`` (files)."""
