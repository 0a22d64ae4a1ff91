#!/bin/busybox sh
# /init of the KVM test's guest: busybox, the virtio modules, then memhog.
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
echo "INIT_REACHED uptime=$(cut -d' ' -f1 /proc/uptime)"
echo online_movable > /sys/devices/system/memory/auto_online_blocks
for m in virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci \
         virtio_balloon virtio_mem; do
    insmod /modules/$m.ko || echo "INSMOD_FAIL $m"
done
sched=16:30
rate=16
for arg in $(cat /proc/cmdline); do
    case $arg in
    memhog=*) sched=${arg#memhog=} ;;
    memhog_rate=*) rate=${arg#memhog_rate=} ;;
    esac
done
grep -E '^(MemTotal|MemFree|MemAvailable):' /proc/meminfo
stty -echo 2>/dev/null  # the test host writes "next" lines to the console
echo "READY sched=$sched rate=$rate"
while true; do
    /memhog "$sched" "$rate"
    echo "MEMHOG_EXIT rc=$?"
    sleep 1
done
