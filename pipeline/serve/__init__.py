"""``yolact-stream serve``: a long-running service for live cameras — streams added and
removed at runtime (each its own pipeline, all sharing one engine), REST, detections as
Server-Sent Events, a live view, Prometheus metrics."""
