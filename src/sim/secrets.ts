/**
 * The fake but recognisable secrets inside the simulated Express's COMM_GET_CUSTOM_CONFIG
 * reply. Tests grep logs, MQTT payloads, history and web responses for these strings to
 * prove the real ones (WiFi, hub, AP passwords, BLE pin) could never leak.
 */
export const SIM_SECRETS = {
  wifiPassword: "sim-wifi-S3CRET-pw",
  hubPassword: "sim-hub-S3CRET-pw",
  apPassword: "sim-ap-S3CRET-pw",
  blePin: 271828,
} as const;
