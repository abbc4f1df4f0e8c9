/* The model leaves as ONNX (the course's deployment scenario): the
 * inference graph of ResNet-18 or ResNet-50 as torchvision's export gives
 * it (Conv, BatchNormalization, Relu, MaxPool, Add, GlobalAveragePool,
 * Flatten, Gemm; opset 13), its weights and batch norm's running statistics
 * as initializers named as torchvision names them, the input
 * `input` [N, 3, H, W] float32 with N free, the output `logits` [N, 10].
 * The protobuf is written with protobuf-c's code generated from ONNX's own
 * onnx.proto (third_party/onnx), not by hand-encoding bytes. */
#ifndef RN_ONNX_EXPORT_H
#define RN_ONNX_EXPORT_H

#include "cifar.h"
#include "model.h"

/* 1 when this build can write ONNX (protobuf-c was found). */
int rn_onnx_available(void);

/* Writes the model's inference graph to `path` for img x img inputs
 * (atomically: a temporary file renamed). Returns 0, 2 with one line when
 * this build has no protobuf-c, or 3. */
int rn_onnx_export(const rn_model *m, int img, const char *path);

/* For checking the file elsewhere (onnxruntime): the first batch of `data`
 * as the lab evaluates it (no augmentation, resized to img, normalised)
 * and the model's logits for it in evaluation mode, written to `path` as
 * little-endian int32 n, 3, img, img, classes, then the n x 3 x img x img
 * images and the n x classes logits as float32. Returns 0 or 3. */
int rn_onnx_reference(rn_model *m, const rn_cifar *data, int img, const char *path);

#endif
