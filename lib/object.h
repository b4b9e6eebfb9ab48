/* SPDX-License-Identifier: MIT */
/* object.h - making objects from text that is already parsed */
#ifndef KINF_LIB_OBJECT_H
#define KINF_LIB_OBJECT_H

#include <kinformer/object.h>

/* An object whose parsed form is json and whose text is raw[0..len):
   the two must describe the same value. raw is copied. */
int kinf__object_new_parsed(kinf_object **out, const json_t *json,
                            const char *raw, size_t len, kinf_error *err);

#endif
