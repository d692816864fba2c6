"""YAML presets: models/*.yaml (networks) and pipelines/*.yaml (run presets)."""
