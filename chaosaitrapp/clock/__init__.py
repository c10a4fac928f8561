"""The clock family: the trader's wall clock jumps (a VM step, an NTP correction) while its monotonic clock does not."""
