# apt_install PACKAGE...: installs Debian packages without starting their
# daemons (a policy-rc.d denies it while dpkg runs): the tests start their
# own Prometheus and the test cluster its own containerd.
apt_install() {
	(($#)) || return 0
	local made_policy=
	if [[ ! -e /usr/sbin/policy-rc.d ]]; then
		printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
		chmod +x /usr/sbin/policy-rc.d
		made_policy=1
	fi
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
	if [[ -n $made_policy ]]; then rm -f /usr/sbin/policy-rc.d; fi
}
