// C reference for bench/decoder.ts: the same work as FrameDecoder + decodeBmsValues, in plain C
// as the firmware does it: bldc comm/packet.c's scan (wait for the declared length, slide one
// byte past an invalid frame), vesc_express main/crc.c's byte-wise CRC16-XMODEM table, and a
// bounds-checked COMM_BMS_GET_VALUES decode into a struct (vesc_tool commands.cpp order).
// Usage: decoder_ref STREAM_FILE SEED MAX_CHUNK ITERATIONS [fixed] -> one JSON line on stdout
// with wall (CLOCK_MONOTONIC) and CPU (CLOCK_PROCESS_CPUTIME_ID) seconds per pass.
// Chunks are cut with the same xorshift32 as bench/prng.ts (or are all MAX_CHUNK with "fixed"),
// so both sides see identical pushes.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <vector>

static uint16_t TAB[256];
static void crcInit() {
  for (int i = 0; i < 256; i++) {
    uint16_t c = (uint16_t)(i << 8);
    for (int b = 0; b < 8; b++) c = (c & 0x8000) ? (uint16_t)((c << 1) ^ 0x1021) : (uint16_t)(c << 1);
    TAB[i] = c;
  }
}
static inline uint16_t crc16(const uint8_t* p, size_t n) {
  uint16_t c = 0;
  for (size_t i = 0; i < n; i++) c = (uint16_t)(TAB[((c >> 8) ^ p[i]) & 0xff] ^ (c << 8));
  return c;
}

struct Bms {
  double packVoltage, chargeVoltage, current, currentIc, ampHours, wattHours;
  int cellCount, tempCount;
  double cells[255];
  bool balancing[255];
  double temps[255];
  double icTemp, humTemp, humidity, maxCellTemp;
  bool hasSoc, hasSoh, hasCanId, hasTotals, hasPressure, hasDataVersion, hasStatus;
  double soc, soh, totals[4], pressure;
  int canId, dataVersion;
  char status[41];
};

struct Reader {
  const uint8_t* p;
  size_t n, off;
  bool ok;
  size_t remaining() const { return n - off; }
  bool take(size_t k) {
    if (n - off < k) { ok = false; return false; }
    return true;
  }
  int u8() { if (!take(1)) return 0; return p[off++]; }
  int16_t i16() {
    if (!take(2)) return 0;
    int16_t v = (int16_t)((p[off] << 8) | p[off + 1]);
    off += 2;
    return v;
  }
  uint32_t u32() {
    if (!take(4)) return 0;
    uint32_t v = ((uint32_t)p[off] << 24) | ((uint32_t)p[off + 1] << 16) | ((uint32_t)p[off + 2] << 8) | p[off + 3];
    off += 4;
    return v;
  }
  double f16(double s) { return i16() / s; }
  double f32(double s) { return (int32_t)u32() / s; }
  double f32auto() {
    uint32_t bits = u32();
    int e = (bits >> 23) & 0xff;
    uint32_t m = bits & 0x7fffff;
    if (e == 0 && m == 0) return 0;
    double v = ldexp(m / 16777216.0 + 0.5, e - 126);
    return (bits >> 31) ? -v : v;
  }
};

// Returns false where decodeBmsValues throws ProtocolError.
static bool decodeBms(const uint8_t* p, size_t n, Bms& b) {
  Reader r{p, n, 0, true};
  if (r.u8() != 96 || !r.ok) return false;
  b.packVoltage = r.f32(1e6);
  b.chargeVoltage = r.f32(1e6);
  b.current = r.f32(1e6);
  b.currentIc = r.f32(1e6);
  b.ampHours = r.f32(1e3);
  b.wattHours = r.f32(1e3);
  b.cellCount = r.u8();
  if (!r.ok || r.remaining() < (size_t)b.cellCount * 3 + 1) return false;
  for (int i = 0; i < b.cellCount; i++) b.cells[i] = r.f16(1e3);
  for (int i = 0; i < b.cellCount; i++) b.balancing[i] = r.u8() != 0;
  b.tempCount = r.u8();
  if (!r.ok || r.remaining() < (size_t)b.tempCount * 2 + 8) return false;
  for (int i = 0; i < b.tempCount; i++) b.temps[i] = r.f16(1e2);
  b.icTemp = r.f16(1e2);
  b.humTemp = r.f16(1e2);
  b.humidity = r.f16(1e2);
  b.maxCellTemp = r.f16(1e2);
  if (!r.ok) return false;
  b.hasSoc = r.remaining() >= 2;
  if (b.hasSoc) b.soc = r.i16() / 10.0;
  b.hasSoh = r.remaining() >= 2;
  if (b.hasSoh) b.soh = r.i16() / 10.0;
  b.hasCanId = r.remaining() >= 1;
  if (b.hasCanId) b.canId = r.u8();
  b.hasTotals = r.remaining() >= 16;
  if (b.hasTotals)
    for (int i = 0; i < 4; i++) b.totals[i] = r.f32auto();
  b.hasPressure = r.remaining() >= 2;
  if (b.hasPressure) b.pressure = r.i16() * 10.0;
  b.hasDataVersion = r.remaining() >= 1;
  if (b.hasDataVersion) b.dataVersion = r.u8();
  b.hasStatus = r.remaining() >= 1;
  if (b.hasStatus) {
    const void* nul = memchr(p + r.off, 0, r.remaining());
    if (!nul) return false;
    size_t len = (const uint8_t*)nul - (p + r.off);
    size_t copy = len < 40 ? len : 40;
    memcpy(b.status, p + r.off, copy);
    b.status[copy] = 0;
  }
  return r.ok;
}

enum Attempt { NEED, INVALID, FRAME };

struct Decoder {
  std::vector<uint8_t> buf = std::vector<uint8_t>(4096);
  size_t start = 0, end = 0, maxPayload = 10000;
  long long frames = 0, discarded = 0;
  long long discardFrom = -1;

  Attempt tryFrame(size_t pos, size_t& frameEnd) const {
    const uint8_t* b = buf.data();
    size_t hl = b[pos];
    if (end - pos < hl) return NEED;
    size_t len, minLen;
    if (hl == 2) { len = b[pos + 1]; minLen = 1; }
    else if (hl == 3) { len = ((size_t)b[pos + 1] << 8) | b[pos + 2]; minLen = 255; }
    else { len = ((size_t)b[pos + 1] << 16) | ((size_t)b[pos + 2] << 8) | b[pos + 3]; minLen = 65535; }
    if (len < minLen || len > maxPayload) return INVALID;
    frameEnd = pos + hl + len + 3;
    if (frameEnd > end) return NEED;
    if (b[frameEnd - 1] != 3) return INVALID;
    uint16_t crc = (uint16_t)((b[frameEnd - 3] << 8) | b[frameEnd - 2]);
    if (crc16(b + pos + hl, len) != crc) return INVALID;
    return FRAME;
  }
  void append(const uint8_t* p, size_t n) {
    if (end + n > buf.size()) {
      size_t live = end - start;
      if (live + n > buf.size()) {
        std::vector<uint8_t> next(std::max(live + n, buf.size() * 2));
        memcpy(next.data(), buf.data() + start, live);
        buf.swap(next);
      } else {
        memmove(buf.data(), buf.data() + start, live);
      }
      start = 0;
      end = live;
    }
    memcpy(buf.data() + end, p, n);
    end += n;
  }
  void mark(size_t pos) { if (discardFrom < 0) discardFrom = (long long)pos; }
  void flush(size_t pos) {
    if (discardFrom < 0) return;
    discarded += (long long)pos - discardFrom;
    discardFrom = -1;
  }
  template <class F> void push(const uint8_t* p, size_t n, F&& onFrame) {
    append(p, n);
    size_t pos = start;
    while (pos < end) {
      uint8_t c = buf[pos];
      if (c < 2 || c > 4) { mark(pos); pos++; continue; }
      size_t fe = 0;
      Attempt a = tryFrame(pos, fe);
      if (a == NEED) break;
      if (a == INVALID) { mark(pos); pos++; continue; }
      flush(pos);
      onFrame(buf.data() + pos + c, fe - pos - c - 3);
      frames++;
      pos = fe;
    }
    flush(pos);
    start = pos;
    if (start == end) start = end = 0;
  }
};

static uint32_t xs;
static uint32_t xorshift32() {
  xs ^= xs << 13;
  xs ^= xs >> 17;
  xs ^= xs << 5;
  return xs;
}

int main(int argc, char** argv) {
  if (argc != 5 && argc != 6) {
    fprintf(stderr, "usage: %s STREAM SEED MAX_CHUNK ITERATIONS [fixed]\n", argv[0]);
    return 2;
  }
  FILE* f = fopen(argv[1], "rb");
  if (!f) { perror(argv[1]); return 1; }
  std::vector<uint8_t> data;
  uint8_t tmp[65536];
  size_t got;
  while ((got = fread(tmp, 1, sizeof tmp, f)) > 0) data.insert(data.end(), tmp, tmp + got);
  fclose(f);
  xs = (uint32_t)strtoul(argv[2], nullptr, 10);
  if (xs == 0) xs = 0x9e3779b9u;
  uint32_t maxChunk = (uint32_t)strtoul(argv[3], nullptr, 10);
  int iterations = atoi(argv[4]);
  bool fixed = argc == 6 && strcmp(argv[5], "fixed") == 0;
  std::vector<size_t> chunks;
  for (size_t left = data.size(); left > 0;) {
    size_t c = fixed ? maxChunk : 1 + xorshift32() % maxChunk;
    if (c > left) c = left;
    chunks.push_back(c);
    left -= c;
  }
  crcInit();
  std::vector<double> wall, cpu;
  long long frames = 0, discarded = 0, errors = 0;
  double checksum = 0;
  for (int it = 0; it < iterations; it++) {
    Decoder d;
    Bms b;
    double acc = 0;
    long long errs = 0;
    timespec t0, t1, c0, c1;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    size_t off = 0;
    for (size_t c : chunks) {
      d.push(data.data() + off, c, [&](const uint8_t* p, size_t n) {
        if (!decodeBms(p, n, b)) { errs++; return; }
        acc += b.packVoltage;
        acc += b.current;
        for (int i = 0; i < b.cellCount; i++) acc += b.cells[i];
        for (int i = 0; i < b.tempCount; i++) acc += b.temps[i];
        acc += b.icTemp;
        if (b.hasSoc) acc += b.soc;
      });
      off += c;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
    wall.push_back((t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
    cpu.push_back((c1.tv_sec - c0.tv_sec) + (c1.tv_nsec - c0.tv_nsec) / 1e9);
    frames = d.frames;
    discarded = d.discarded + (long long)(d.end - d.start);
    errors = errs;
    checksum = acc;
  }
  printf("{\"bytes\":%zu,\"chunks\":%zu,\"frames\":%lld,\"discardedBytes\":%lld,\"decodeErrors\":%lld,"
         "\"checksum\":%.17g,\"seconds\":[", data.size(), chunks.size(), frames, discarded, errors, checksum);
  for (size_t i = 0; i < wall.size(); i++) printf("%s%.9f", i ? "," : "", wall[i]);
  printf("],\"cpuSeconds\":[");
  for (size_t i = 0; i < cpu.size(); i++) printf("%s%.9f", i ? "," : "", cpu[i]);
  printf("]}\n");
  return 0;
}
