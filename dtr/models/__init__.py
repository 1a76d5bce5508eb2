"""Small training workloads for traces: CIFAR-size ResNet-32, DenseNet, U-Net, LSTM, TreeLSTM, Transformer."""

from dtr.models.workloads import WORKLOADS, Workload, record_trace

__all__ = ["WORKLOADS", "Workload", "record_trace"]
