"""The method's PyTorch half: the network (backbone, fpn, protonet, head, model), its
training (loss, dataset, train), weights (checkpoint, weights_init) and ONNX export.
Everything here imports torch; nothing outside may import it at module level (see
docs/architecture.md). The torch-free core is the rest of ``yolact``."""
