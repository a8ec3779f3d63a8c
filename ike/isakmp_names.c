/* isakmp_names.c - printable names of ISAKMP numbers, generated from the
 * X-macro lists of isakmp_msg.h. */
#include <stddef.h>

#include "isakmp_msg.h"

#define CASE_NAME(n, v, ...) case v: return #n;
#define CASE_TEXT(n, v, s) case v: return s;

const char *isakmp_exchange_name(uint8_t x)
{
	switch (x) {
	ISAKMP_EXCHANGES(CASE_TEXT)
	default: return NULL;
	}
}

const char *isakmp_payload_name(uint8_t t)
{
	switch (t) {
	ISAKMP_PAYLOADS(CASE_TEXT)
	default: return NULL;
	}
}

const char *isakmp_notify_name(uint16_t t)
{
	switch (t) {
	ISAKMP_NOTIFIES(CASE_TEXT)
	default: return NULL;
	}
}

const char *isakmp_id_type_name(uint8_t t)
{
	switch (t) {
	ISAKMP_ID_TYPES(CASE_NAME)
	default: return NULL;
	}
}
