#!/usr/bin/env python3
"""Turn a syslog file with RFC 3339 stamps (rsyslog's RSYSLOG_FileFormat,
as samples/lab/syslog-mail.log was written by the lab's real rsyslog) into
journal export format (systemd's "Journal Export Format"), each line an
entry with the fields journald gives a syslog(3) message: stamps, boot,
host, SYSLOG_FACILITY=2 (mail), SYSLOG_IDENTIFIER, SYSLOG_PID, MESSAGE.
systemd-journal-remote turns the stream into a real journal file.

  journal_export.py SYSLOGFILE [MONOTONIC_START] > export.txt

MONOTONIC_START: the boot's monotonic clock before the first entry (a
second export of the same boot's later lines starts past the first's).
"""
import datetime, re, sys

LINE = re.compile(r'(\S+) (\S+) ([^\[: ]+)(?:\[(\d+)\])?: (.*)')


def main():
    mono = int(sys.argv[2]) if len(sys.argv) > 2 else 1000000
    out = sys.stdout
    for line in open(sys.argv[1], encoding="utf-8", errors="surrogateescape"):
        m = LINE.match(line.rstrip("\n"))
        if not m:
            continue
        ts, host, ident, pid, msg = m.groups()
        usec = int(datetime.datetime.fromisoformat(ts).timestamp() * 1000000)
        mono += 1
        out.write("__REALTIME_TIMESTAMP=%d\n__MONOTONIC_TIMESTAMP=%d\n"
                  "_BOOT_ID=00000000000000000000000000001234\n_HOSTNAME=%s\n"
                  "SYSLOG_FACILITY=2\nPRIORITY=6\nSYSLOG_IDENTIFIER=%s\n" % (usec, mono, host, ident))
        if pid:
            out.write("SYSLOG_PID=%s\n" % pid)
        out.write("MESSAGE=%s\n\n" % msg)
    # an entry of another facility (auth) is not a mail entry
    out.write("__REALTIME_TIMESTAMP=%d\n__MONOTONIC_TIMESTAMP=%d\n"
              "_BOOT_ID=00000000000000000000000000001234\n_HOSTNAME=vm\nSYSLOG_FACILITY=4\n"
              "SYSLOG_IDENTIFIER=sshd\nSYSLOG_PID=1\nMESSAGE=Accepted publickey\n\n" % (usec, mono + 1))


if __name__ == "__main__":
    main()
