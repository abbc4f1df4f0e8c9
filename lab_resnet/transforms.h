/* The lab's training transforms, in C:
 *   RandomResizedCrop(img_size, scale=(0.08, 1), ratio=(3/4, 4/3)), bilinear
 *   RandomHorizontalFlip(p = 0.5)
 *   ToTensor (bytes / 255) and Normalize(ImageNet mean, std)
 * Each sample's random draws come from a generator keyed by (seed, epoch,
 * sample index), so an image's augmentation does not depend on how, when or
 * by which thread it is loaded (Part 2's workers give the same batches). */
#ifndef RN_TRANSFORMS_H
#define RN_TRANSFORMS_H

#include <stdint.h>

/* ImageNet statistics, per RGB channel. */
extern const float rn_imagenet_mean[3];
extern const float rn_imagenet_std[3];

/* The crop torchvision's RandomResizedCrop.get_params picks for an image of
 * height h and width w: up to 10 tries of a random area fraction in
 * [0.08, 1] and log-uniform aspect ratio in [3/4, 4/3]; if none fits, the
 * fallback (a centre crop at the nearest allowed ratio). Writes top, left,
 * crop height, crop width; *flip = 1 for a horizontal flip. Deterministic
 * in (seed, epoch, index). */
void rn_augment_params(uint64_t seed, int epoch, int index, int h, int w, int *top, int *left, int *ch, int *cw,
                       int *flip);

/* One training sample: 3 x 32 x 32 bytes (CHW) -> 3 x size x size floats,
 * cropped, resized bilinearly (align_corners = false, as torchvision's
 * tensor path without antialiasing), flipped, normalised. */
void rn_transform_train(const uint8_t *chw, int h, int w, uint64_t seed, int epoch, int index, int size, float *out);
/* No augmentation: bytes / 255, normalised, at the native size (check-step
 * and evaluation). */
void rn_transform_plain(const uint8_t *chw, int h, int w, float *out);

/* No augmentation, another size: the whole image resized bilinearly to
 * size x size and normalised (evaluation at the training size). */
void rn_transform_resize(const uint8_t *chw, int h, int w, int size, float *out);

#endif
