/*
 * config/version.h: the release of clustersim, clusterd and clusterctl
 * (printed by --version; CHANGELOG.md lists what each release holds).
 */
#ifndef CONFIG_VERSION_H
#define CONFIG_VERSION_H

#define CS_VERSION "0.23.0"

#endif
