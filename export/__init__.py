"""Exporters (ONNX, TensorRT, Core ML, Triton repository) behind one ``export()`` and one format table."""
from lsnet.export.api import ExportResult, export
from lsnet.export.formats import FORMATS, resolve_format

__all__ = ["ExportResult", "FORMATS", "export", "resolve_format"]
