"""Beyond one machine: many sources processed on a Ray cluster by long-lived actors that
each hold an engine (``pipeline.cluster.driver.run_on_ray``; ``yolact-stream run --ray``)."""
