/* SPDX-License-Identifier: MIT */
/* kinformer.h - umbrella header: client-go style informers for C */
#ifndef KINFORMER_H
#define KINFORMER_H

#include <kinformer/common.h>
#include <kinformer/version.h>
#include <kinformer/error.h>
#include <kinformer/log.h>
#include <kinformer/config.h>
#include <kinformer/client.h>
#include <kinformer/object.h>
#include <kinformer/store.h>
#include <kinformer/informer.h>

#endif
