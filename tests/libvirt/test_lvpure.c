/* dynmem-libvirt's pieces that need no libvirt: its metadata element (every
 * refusal names its field), the balancer configuration built from it, the
 * memory a domain's XML describes, the virtio-mem update it sends, and how a
 * size is reached with balloon and virtio-mem. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "lvdomxml.h"
#include "lvmeta.h"
#include "lvplan.h"

#define MiB (UINT64_C(1) << 20)

static const char *DOMAIN_XML =
    "<domain type='qemu' id='3'><name>web</name>"
    "<maxMemory slots='2' unit='KiB'>2097152</maxMemory>"
    "<memory unit='KiB'>1572864</memory><currentMemory unit='KiB'>1179648</currentMemory>"
    "<devices><memballoon model='virtio'><alias name='balloon0'/></memballoon>"
    "<memory model='virtio-mem'><target><size unit='KiB'>524288</size><node>0</node>"
    "<block unit='KiB'>2048</block><requested unit='KiB'>131072</requested>"
    "<current unit='KiB'>131072</current></target><alias name='virtiomem0'/>"
    "<address type='pci' domain='0x0000' bus='0x00' slot='0x05' function='0x0'/></memory>"
    "</devices></domain>";

static struct lv_mem web(void)
{
    struct lv_mem m;
    char err[256];
    cr_assert_eq(lv_mem_from_xml(DOMAIN_XML, &m, err, sizeof err), 0, "%s", err);
    return m;
}

static void refused(const char *xml, const char *field_and_why)
{
    struct lv_settings s;
    char err[256] = "";
    cr_expect_eq(lv_meta_parse(xml, &s, err, sizeof err), -1, "accepted: %s", xml);
    cr_expect(strstr(err, field_and_why) != NULL, "%s: got '%s', want '%s'", xml, err,
              field_and_why);
}

Test(meta, every_setting_with_units)
{
    struct lv_settings s;
    char err[256];
    cr_assert_eq(lv_meta_parse("<memory><minimum unit='MiB'>512</minimum>"
                               "<maximum unit='GiB'>4</maximum><buffer> 50 </buffer>"
                               "<weight>9000</weight><calm unit='ms'>1500</calm></memory>",
                               &s, err, sizeof err), 0, "%s", err);
    cr_expect_eq(s.given, LV_SET_MINIMUM | LV_SET_MAXIMUM | LV_SET_BUFFER | LV_SET_WEIGHT | LV_SET_CALM);
    cr_expect_eq(s.minimum, 512 * MiB);
    cr_expect_eq(s.maximum, 4096 * MiB);
    cr_expect_eq(s.buffer, 50);
    cr_expect_eq(s.weight, 9000);
    cr_expect_eq(s.calm_ms, 1500);
    /* libvirt's own default unit is KiB; calm defaults to seconds */
    cr_assert_eq(lv_meta_parse("<memory><minimum>262144</minimum><calm>30</calm></memory>", &s,
                               err, sizeof err), 0, "%s", err);
    cr_expect_eq(s.minimum, 256 * MiB);
    cr_expect_eq(s.calm_ms, 30000);
    cr_assert_eq(lv_meta_parse("<memory/>", &s, err, sizeof err), 0);
    cr_expect_eq(s.given, 0);
}

Test(meta, refusals_name_the_field)
{
    refused("<memory><minimum unit='MiB'>-5</minimum></memory>", "minimum: '-5': not a whole number");
    refused("<memory><minimum unit='MiB'>0</minimum></memory>", "minimum: '0': must be above 0");
    refused("<memory><maximum unit='parsecs'>4</maximum></memory>", "maximum: '4': unknown unit");
    refused("<memory><maximum unit='TiB'>99999999999</maximum></memory>", "maximum: '99999999999': too large");
    refused("<memory><buffer>4</buffer></memory>", "buffer: '4': must be 5..2000");
    refused("<memory><buffer>20%</buffer></memory>", "buffer: '20%': not a whole number");
    refused("<memory><weight>10001</weight></memory>", "weight: '10001': must be 0..10000");
    refused("<memory><calm unit='h'>1</calm></memory>", "calm: '1': unit must be s or ms");
    refused("<memory><calm>86401</calm></memory>", "calm: '86401': more than a day");
    refused("<memory><weight>1</weight><weight>2</weight></memory>", "weight: given twice");
    refused("<memory><startup>1</startup></memory>", "startup: unknown setting");
    refused("<memory>stray text</memory>", "text: unknown setting");
    refused("<settings/>", "memory: the element is <settings>, not <memory>");
    refused("<memory><minimum>1", "memory: not well-formed XML");
    refused("", "memory: not well-formed XML");
}

Test(meta, config_from_settings_and_domain)
{
    struct lv_mem m = web();
    struct lv_settings s = {0};
    struct dynmem_vm_config c;
    char err[256];
    /* nothing given: from startup (no shrinking) up to what it can reach */
    cr_assert_eq(lv_meta_config(&s, &m, 1024 * MiB, &c, err, sizeof err), 0, "%s", err);
    cr_expect_eq(c.startup_bytes, 1024 * MiB);
    cr_expect_eq(c.minimum_bytes, 1024 * MiB);
    cr_expect_eq(c.maximum_bytes, 1536 * MiB);
    cr_expect_eq(c.flags, DYNMEM_VM_DYNAMIC | DYNMEM_VM_CAN_BALLOON | DYNMEM_VM_CAN_HOT_ADD);
    cr_expect_eq(c.buffer_percent, 20);
    cr_expect_eq(c.weight, 5000);
    s = (struct lv_settings){.given = LV_SET_MINIMUM | LV_SET_MAXIMUM | LV_SET_WEIGHT,
                             .minimum = 256 * MiB, .maximum = 1024 * MiB, .weight = 7};
    cr_assert_eq(lv_meta_config(&s, &m, 1024 * MiB, &c, err, sizeof err), 0, "%s", err);
    cr_expect_eq(c.minimum_bytes, 256 * MiB);
    cr_expect_eq(c.weight, 7);
    cr_expect_eq(c.flags & DYNMEM_VM_CAN_HOT_ADD, 0, "maximum = startup: no growth");
}

static void config_refused(struct lv_settings s, const struct lv_mem *m, uint64_t startup,
                           const char *want)
{
    struct dynmem_vm_config c;
    char err[256] = "";
    cr_expect_eq(lv_meta_config(&s, m, startup, &c, err, sizeof err), -1, "accepted (%s)", want);
    cr_expect(strstr(err, want) != NULL, "got '%s', want '%s'", err, want);
}

Test(meta, config_refusals_name_the_field)
{
    struct lv_mem m = web();
    config_refused((struct lv_settings){.given = LV_SET_MINIMUM, .minimum = 2048 * MiB}, &m,
                   1024 * MiB, "minimum: 2048 MiB is above the domain's startup memory, 1024 MiB");
    config_refused((struct lv_settings){.given = LV_SET_MAXIMUM, .maximum = 512 * MiB}, &m,
                   1024 * MiB, "maximum: 512 MiB is below the domain's startup memory");
    config_refused((struct lv_settings){.given = LV_SET_MAXIMUM, .maximum = 4096 * MiB}, &m,
                   1024 * MiB, "maximum: 4096 MiB is above what the domain can reach, 1536 MiB "
                   "(boot memory 1024 MiB + virtio-mem 512 MiB)");
    config_refused((struct lv_settings){.given = LV_SET_MINIMUM, .minimum = 300 * MiB + 4096}, &m,
                   1024 * MiB, "minimum 307204 KiB is not a whole number of 2 MiB units");
    config_refused((struct lv_settings){0}, &m, 1024 * MiB + 1024,
                   "currentMemory: 1048577 KiB is not a whole number of 2 MiB units");
    struct lv_mem nob = m;
    nob.balloon = 0;
    config_refused((struct lv_settings){0}, &nob, 1024 * MiB, "memballoon: the domain has no");
    struct lv_mem dimm = m;
    strcpy(dimm.other_model, "dimm");
    config_refused((struct lv_settings){0}, &dimm, 1024 * MiB,
                   "devices: memory device model 'dimm' is not supported");
}

Test(domxml, memory_and_virtio_mem)
{
    struct lv_mem m = web();
    cr_expect_eq(m.total, 1536 * MiB);
    cr_expect_eq(m.current, 1152 * MiB);
    cr_expect_eq(m.boot, 1024 * MiB);
    cr_expect_eq(m.balloon, 1);
    cr_assert_eq(m.nvmem, 1);
    cr_expect_str_eq(m.vmem[0].alias, "virtiomem0");
    cr_expect_eq(m.vmem[0].size, 512 * MiB);
    cr_expect_eq(m.vmem[0].block, 2 * MiB);
    cr_expect_eq(m.vmem[0].requested, 128 * MiB);
    cr_expect_eq(m.vmem[0].current, 128 * MiB);
    cr_expect_eq(lv_mem_vmem_size(&m), 512 * MiB);
    cr_expect_eq(lv_mem_vmem_current(&m), 128 * MiB);
}

Test(domxml, bad_documents)
{
    struct lv_mem m;
    char err[256];
    cr_expect_eq(lv_mem_from_xml("<domain><currentMemory>1</currentMemory></domain>", &m, err,
                                 sizeof err), -1);
    cr_expect(strstr(err, "memory: missing"), "%s", err);
    cr_expect_eq(lv_mem_from_xml("<network/>", &m, err, sizeof err), -1);
    cr_expect_eq(lv_mem_from_xml("<domain><memory>1024</memory><currentMemory>1024</currentMemory>"
                                 "<devices><memory model='virtio-mem'><target><size>4096</size>"
                                 "<block>0</block></target></memory></devices></domain>",
                                 &m, err, sizeof err), -1, "a zero block is refused");
    cr_expect_eq(lv_mem_from_xml("<domain><memory>1024</memory><currentMemory>1024</currentMemory>"
                                 "<devices><memory model='virtio-mem'><target><size>4096</size>"
                                 "<block>2048</block></target></memory></devices></domain>",
                                 &m, err, sizeof err), -1, "devices larger than <memory>");
}

Test(domxml, update_changes_requested_only)
{
    char *dev = lv_vmem_update_xml(DOMAIN_XML, "virtiomem0", 256 * MiB);
    cr_assert_not_null(dev);
    cr_expect(strstr(dev, "<requested unit=\"KiB\">262144</requested>"), "%s", dev);
    cr_expect(strstr(dev, "<current") == NULL, "libvirt takes no <current>: %s", dev);
    cr_expect(strstr(dev, "<alias name=\"virtiomem0\"/>"), "%s", dev);
    cr_expect(strstr(dev, "slot=\"0x05\""), "the address stays: %s", dev);
    free(dev);
    cr_expect_null(lv_vmem_update_xml(DOMAIN_XML, "virtiomem9", 0));
}

Test(plan, growth_unballoons_first_then_plugs)
{
    struct lv_mem m = web(); /* boot 1024, virtio-mem 128 of 512 */
    struct lv_plan p;
    /* balloon at 600: +300 is all balloon */
    cr_expect_eq(lv_plan(&m, 600 * MiB, 1028 * MiB, 2 * MiB, &p), 1028 * MiB);
    cr_expect_eq(p.balloon, 900 * MiB);
    cr_expect_eq(p.vmem[0], 128 * MiB);
    /* +600: balloon to boot (424), the rest plugged (176) */
    cr_expect_eq(lv_plan(&m, 600 * MiB, 1328 * MiB, 2 * MiB, &p), 1328 * MiB);
    cr_expect_eq(p.balloon, 1024 * MiB);
    cr_expect_eq(p.vmem[0], 304 * MiB);
    /* never past the device, never a part block */
    cr_expect_eq(lv_plan(&m, 1024 * MiB, 4096 * MiB, 2 * MiB, &p), 1536 * MiB);
    cr_expect_eq(p.vmem[0], 512 * MiB);
    cr_expect_eq(lv_plan(&m, 1024 * MiB, 1153 * MiB, 2 * MiB, &p), 1152 * MiB);
    cr_expect_eq(p.vmem[0], 128 * MiB);
}

Test(plan, shrink_unplugs_first_then_balloons)
{
    struct lv_mem m = web();
    struct lv_plan p;
    /* held 1024 + 128: -100 is all virtio-mem */
    cr_expect_eq(lv_plan(&m, 1024 * MiB, 1052 * MiB, 2 * MiB, &p), 1052 * MiB);
    cr_expect_eq(p.vmem[0], 28 * MiB);
    cr_expect_eq(p.balloon, 1024 * MiB);
    /* -400: virtio-mem to 0, balloon takes 272 */
    cr_expect_eq(lv_plan(&m, 1024 * MiB, 752 * MiB, 2 * MiB, &p), 752 * MiB);
    cr_expect_eq(p.vmem[0], 0);
    cr_expect_eq(p.balloon, 752 * MiB);
    /* the balloon stops at its floor */
    cr_expect_eq(lv_plan(&m, 1024 * MiB, 0, 64 * MiB, &p), 64 * MiB);
    cr_expect_eq(p.balloon, 64 * MiB);
    /* a part block stays with the balloon */
    cr_expect_eq(lv_plan(&m, 1024 * MiB, 1151 * MiB, 2 * MiB, &p), 1151 * MiB);
    cr_expect_eq(p.vmem[0], 128 * MiB);
    cr_expect_eq(p.balloon, 1023 * MiB);
}
