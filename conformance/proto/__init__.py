"""The suite's own CRI ImageService protos (runtime.v1 and runtime.v1alpha2) and their generated modules."""
