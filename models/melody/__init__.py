"""Melody generation: tokens, baselines and (later) the ONNX runner. No Qt, no torch."""
