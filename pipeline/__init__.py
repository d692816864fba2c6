"""Stream video through an engine: sources, rings, stages, sinks, metrics, runner, CLI."""
