// A minimal Mapbox Vector Tile (v2) decoder: just enough to draw and hit-test the polygons that
// PostGIS's ST_AsMVT sends for the asset map.
// Spec: https://github.com/mapbox/vector-tile-spec/tree/master/2.1
//
//   const layers = TMCS_MVT.decode(arrayBuffer);
//   layers.assets → { name, version, extent, features: [{ id, type, properties, rings }] }
//
// `rings` are arrays of [x, y] in tile-extent units (0…extent, y down; points in the buffer lie
// slightly outside). For polygons every ring is closed implicitly (first point not repeated);
// exterior rings and holes are not told apart here, so fill and hit-test them with the even-odd
// rule. Points and lines come out the same way (one array of points per MoveTo).
(function (global) {
  "use strict";

  // Protocol-buffer wire types (https://protobuf.dev/programming-guides/encoding/).
  const VARINT = 0;
  const FIXED64 = 1;
  const LENGTH_DELIMITED = 2;
  const FIXED32 = 5;

  // Geometry command ids and feature geometry types of the MVT spec.
  const MOVE_TO = 1;
  const LINE_TO = 2;
  const CLOSE_PATH = 7;
  const POLYGON = 3;

  const TWO_64 = 2 ** 64;
  const utf8 = new TextDecoder("utf-8");

  // Reads protobuf fields from bytes[pos, end).
  class Reader {
    constructor(bytes, pos = 0, end = bytes.length) {
      this.bytes = bytes;
      this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      this.pos = pos;
      this.end = end;
    }

    done() {
      return this.pos >= this.end;
    }

    // Base-128 varint, least significant group first. Returned as a Number, so values above
    // 2^53 (never ids or coordinates in our tiles) lose precision; multiplication rather than
    // bit shifts keeps everything above 2^31 correct.
    varint() {
      let value = 0;
      let scale = 1;
      for (;;) {
        if (this.pos >= this.end) throw new Error("MVT: truncated varint");
        const byte = this.bytes[this.pos++];
        value += (byte & 0x7f) * scale;
        if (byte < 0x80) return value;
        scale *= 128;
      }
    }

    // A field key is (field number << 3) | wire type.
    key() {
      const key = this.varint();
      return { field: Math.floor(key / 8), type: key % 8 };
    }

    // A length-delimited field as a Reader over its own bytes; the outer reader moves past it.
    message() {
      const length = this.varint();
      const start = this.pos;
      this.pos += length;
      if (this.pos > this.end) throw new Error("MVT: truncated field");
      return new Reader(this.bytes, start, this.pos);
    }

    string() {
      const sub = this.message();
      return utf8.decode(this.bytes.subarray(sub.pos, sub.end));
    }

    // A repeated uint32 field: packed (one length-delimited run, what encoders write) or, as
    // protobuf allows, a single unpacked varint.
    packed(type, into) {
      if (type !== LENGTH_DELIMITED) {
        into.push(this.varint());
        return into;
      }
      const sub = this.message();
      while (!sub.done()) into.push(sub.varint());
      return into;
    }

    float() {
      const value = this.view.getFloat32(this.pos, true);
      this.pos += 4;
      return value;
    }

    double() {
      const value = this.view.getFloat64(this.pos, true);
      this.pos += 8;
      return value;
    }

    skip(type) {
      if (type === VARINT) this.varint();
      else if (type === FIXED64) this.pos += 8;
      else if (type === LENGTH_DELIMITED) this.message();
      else if (type === FIXED32) this.pos += 4;
      else throw new Error(`MVT: unsupported wire type ${type}`);
    }
  }

  // Zigzag encoding maps signed to unsigned: 0 → 0, -1 → 1, 1 → 2, -2 → 3 …
  function zigzag(n) {
    return n % 2 === 0 ? n / 2 : -(n + 1) / 2;
  }

  // message Value { string=1, float=2, double=3, int64=4, uint64=5, sint64=6, bool=7 }
  function readValue(reader) {
    let value = null;
    while (!reader.done()) {
      const { field, type } = reader.key();
      if (field === 1) value = reader.string();
      else if (field === 2) value = reader.float();
      else if (field === 3) value = reader.double();
      else if (field === 4) {
        value = reader.varint(); // two's complement in 64 bits: ≥ 2^63 means negative
        if (value >= TWO_64 / 2) value -= TWO_64;
      } else if (field === 5) value = reader.varint();
      else if (field === 6) value = zigzag(reader.varint());
      else if (field === 7) value = reader.varint() !== 0;
      else reader.skip(type);
    }
    return value;
  }

  // Geometry is a run of commands: a command integer (id in the low 3 bits, repeat count above),
  // then count × (dx, dy) zigzag-encoded deltas from the cursor, which carries across commands.
  function decodeGeometry(commands) {
    const rings = [];
    let ring = null;
    let x = 0;
    let y = 0;
    let i = 0;
    while (i < commands.length) {
      const command = commands[i] & 0x7;
      const count = Math.floor(commands[i] / 8);
      i += 1;
      if (command === MOVE_TO || command === LINE_TO) {
        for (let n = 0; n < count; n += 1) {
          x += zigzag(commands[i]);
          y += zigzag(commands[i + 1]);
          i += 2;
          if (command === MOVE_TO) {
            ring = [];
            rings.push(ring);
          }
          ring.push([x, y]);
        }
      } else if (command === CLOSE_PATH) {
        // Nothing to store: a ring's last point joins its first; the cursor stays put.
      } else {
        throw new Error(`MVT: unknown geometry command ${command}`);
      }
    }
    return rings;
  }

  // message Feature { uint64 id=1; repeated uint32 tags=2 (packed); GeomType type=3;
  //                   repeated uint32 geometry=4 (packed) }
  // tags are pairs of indexes into the layer's keys and values.
  function readFeature(reader, keys, values) {
    const feature = { id: null, type: 0, properties: {}, rings: [] };
    let tags = [];
    let geometry = [];
    while (!reader.done()) {
      const { field, type } = reader.key();
      if (field === 1) feature.id = reader.varint();
      else if (field === 2) tags = reader.packed(type, tags);
      else if (field === 3) feature.type = reader.varint();
      else if (field === 4) geometry = reader.packed(type, geometry);
      else reader.skip(type);
    }
    for (let t = 0; t + 1 < tags.length; t += 2) feature.properties[keys[tags[t]]] = values[tags[t + 1]];
    feature.rings = decodeGeometry(geometry);
    return feature;
  }

  // message Layer { uint32 version=15; string name=1; repeated Feature features=2;
  //                 repeated string keys=3; repeated Value values=4; uint32 extent=5 [default 4096] }
  // Features refer to keys and values that may come after them, so they are read last.
  function readLayer(reader) {
    const layer = { name: "", version: 1, extent: 4096, features: [] };
    const keys = [];
    const values = [];
    const featureReaders = [];
    while (!reader.done()) {
      const { field, type } = reader.key();
      if (field === 15) layer.version = reader.varint();
      else if (field === 1) layer.name = reader.string();
      else if (field === 2) featureReaders.push(reader.message());
      else if (field === 3) keys.push(reader.string());
      else if (field === 4) values.push(readValue(reader.message()));
      else if (field === 5) layer.extent = reader.varint();
      else reader.skip(type);
    }
    layer.features = featureReaders.map((features) => readFeature(features, keys, values));
    return layer;
  }

  // message Tile { repeated Layer layers=3 }. An empty body is a valid tile with no layers.
  function decode(buffer) {
    const bytes = buffer instanceof Uint8Array ? buffer : new Uint8Array(buffer);
    const reader = new Reader(bytes);
    const layers = {};
    while (!reader.done()) {
      const { field, type } = reader.key();
      if (field === 3) {
        const layer = readLayer(reader.message());
        layers[layer.name] = layer;
      } else {
        reader.skip(type);
      }
    }
    return layers;
  }

  // Even-odd point-in-polygon over all rings (holes and multipolygon parts alike): a point is
  // inside when a ray from it crosses the rings' edges an odd number of times.
  function containsPoint(rings, x, y) {
    let inside = false;
    for (const ring of rings) {
      for (let i = 0, j = ring.length - 1; i < ring.length; j = i, i += 1) {
        const [xi, yi] = ring[i];
        const [xj, yj] = ring[j];
        if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
      }
    }
    return inside;
  }

  global.TMCS_MVT = { decode, containsPoint, POLYGON };
})(window);
