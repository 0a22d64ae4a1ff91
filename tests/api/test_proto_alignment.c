/* The hot-add alignment, one conversion between the guest's 4-bit exponent
 * (capabilities report, the host session's CAPS event) and the bytes the
 * balancer's configuration takes: its limits, its refusals, and that the
 * balancer and the codec agree with it. */
#include <criterion/criterion.h>

#include <dynmem/balancer.h>
#include <dynmem/proto.h>

#define MIB (UINT64_C(1) << 20)

Test(proto_alignment, exponent_to_bytes_at_its_limits)
{
    uint64_t bytes = 0;
    cr_assert_eq(dynmem_proto_alignment_bytes(0, &bytes), DYNMEM_OK);
    cr_assert_eq(bytes, MIB, "exponent 0 is 1 MiB");
    cr_assert_eq(dynmem_proto_alignment_bytes(7, &bytes), DYNMEM_OK);
    cr_assert_eq(bytes, 128 * MIB, "Linux's hv_balloon announces 7: 128 MiB");
    cr_assert_eq(dynmem_proto_alignment_bytes(DYNMEM_PROTO_ALIGNMENT_MAX, &bytes), DYNMEM_OK);
    cr_assert_eq(bytes, 32768 * MIB, "exponent 15 is 32 GiB");
}

Test(proto_alignment, exponent_beyond_four_bits_is_refused)
{
    uint64_t bytes = 12345;
    cr_assert_eq(dynmem_proto_alignment_bytes(16, &bytes), DYNMEM_ERR_OUT_OF_RANGE);
    cr_assert_eq(dynmem_proto_alignment_bytes(64, &bytes), DYNMEM_ERR_OUT_OF_RANGE);
    cr_assert_eq(dynmem_proto_alignment_bytes(~0u, &bytes), DYNMEM_ERR_OUT_OF_RANGE);
    cr_assert_eq(bytes, 12345, "untouched on error");
    cr_assert_eq(dynmem_proto_alignment_bytes(0, NULL), DYNMEM_ERR_INVALID_ARGUMENT);
}

Test(proto_alignment, bytes_to_exponent_is_the_inverse)
{
    for (unsigned e = 0; e <= DYNMEM_PROTO_ALIGNMENT_MAX; e++) {
        uint64_t bytes;
        unsigned back = 99;
        cr_assert_eq(dynmem_proto_alignment_bytes(e, &bytes), DYNMEM_OK);
        cr_assert_eq(dynmem_proto_alignment_exponent(bytes, &back), DYNMEM_OK);
        cr_assert_eq(back, e);
    }
}

Test(proto_alignment, bytes_that_are_no_exponent_are_refused)
{
    const uint64_t bad[] = {0, 1, 4096, MIB - 1, MIB + 1, 3 * MIB, 96 * MIB, 65536 * MIB,
                            UINT64_C(1) << 63, UINT64_MAX};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        unsigned e = 99;
        cr_assert_eq(dynmem_proto_alignment_exponent(bad[i], &e), DYNMEM_ERR_OUT_OF_RANGE,
                     "%llu bytes", (unsigned long long)bad[i]);
        cr_assert_eq(e, 99, "untouched on error");
    }
    cr_assert_eq(dynmem_proto_alignment_exponent(MIB, NULL), DYNMEM_ERR_INVALID_ARGUMENT);
}

/* The codec's field and the capabilities word carry the same exponent the
 * conversion takes: what a decoded report announces converts. */
Test(proto_alignment, decoded_caps_convert)
{
    struct dynmem_proto_msg m, d;
    cr_assert_eq(dynmem_proto_msg_init(&m, sizeof m), DYNMEM_OK);
    cr_assert_eq(dynmem_proto_msg_init(&d, sizeof d), DYNMEM_OK);
    m.type = DYNMEM_PROTO_CAPABILITIES_REPORT;
    m.body.caps_report.hot_add = true;
    m.body.caps_report.hot_add_alignment = DYNMEM_PROTO_ALIGNMENT_MAX;
    uint8_t wire[DYNMEM_PROTO_MSG_SIZE_MAX];
    ptrdiff_t n = dynmem_proto_encode(wire, sizeof wire, &m, DYNMEM_PROTO_VERSION_CURRENT);
    cr_assert_gt(n, 0);
    cr_assert_eq(dynmem_proto_decode(&d, wire, (size_t)n, DYNMEM_PROTO_VERSION_CURRENT, NULL),
                 DYNMEM_OK);
    uint64_t bytes;
    cr_assert_eq(dynmem_proto_alignment_bytes(d.body.caps_report.hot_add_alignment, &bytes),
                 DYNMEM_OK);
    cr_assert_eq(bytes, 32768 * MIB);
}

/* What the balancer takes (2 MiB to 1 GiB, DYNMEM_ERR_CONFIG_ALIGNMENT
 * outside) is exponents 1 to 10 converted. */
Test(proto_alignment, balancer_takes_exponents_one_to_ten)
{
    for (unsigned e = 0; e <= DYNMEM_PROTO_ALIGNMENT_MAX; e++) {
        struct dynmem_vm_config c = DYNMEM_VM_CONFIG_INIT;
        c.startup_bytes = c.minimum_bytes = 1024 * MIB;
        c.maximum_bytes = 4096 * MIB;
        cr_assert_eq(dynmem_proto_alignment_bytes(e, &c.hot_add_alignment_bytes), DYNMEM_OK);
        int want = e >= 1 && e <= 10 ? DYNMEM_OK : DYNMEM_ERR_CONFIG_ALIGNMENT;
        cr_assert_eq(dynmem_vm_config_check(&c), want, "exponent %u", e);
    }
}
