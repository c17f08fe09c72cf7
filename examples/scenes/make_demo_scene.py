#!/usr/bin/env python3
"""Writes the rfarm demo scene: animated_demo.gltf + animated_demo.bin + checker.png, and the same
scene as a binary glTF, animated_demo.glb (its buffer inside the file, the texture beside it).

Python 3 standard library only (nothing downloaded). The scene exercises what the renderer
supports: a textured diffuse floor, a rough gold metal sphere, a red diffuse cube that moves
(LINEAR translation, CUBICSPLINE rotation, STEP scale) under a parent node, an emissive panel
(KHR_materials_emissive_strength), point + spot + directional lights (KHR_lights_punctual) and a
perspective camera. Re-running it reproduces the files byte for byte.

    python3 examples/scenes/make_demo_scene.py [OUTPUT_DIR]
"""
import json
import math
import os
import struct
import sys
import zlib


def png_bytes(width, height, pixel):
    """A minimal RGBA8 PNG (zlib-compressed scanlines, filter 0)."""
    raw = b"".join(b"\x00" + b"".join(bytes(pixel(x, y)) for x in range(width)) for y in range(height))

    def chunk(tag, data):
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


class Builder:
    def __init__(self):
        self.bin = bytearray()
        self.views, self.accessors = [], []

    def add(self, fmt, values, comps, target=None, minmax=False):
        while len(self.bin) % 4:
            self.bin.append(0)
        offset = len(self.bin)
        for v in values:
            self.bin += struct.pack("<" + fmt * comps, *(v if comps > 1 else [v]))
        view = {"buffer": 0, "byteOffset": offset, "byteLength": len(self.bin) - offset}
        if target:
            view["target"] = target
        self.views.append(view)
        ctype = {"f": 5126, "H": 5123, "I": 5125}[fmt]
        acc = {"bufferView": len(self.views) - 1, "componentType": ctype, "count": len(values),
               "type": {1: "SCALAR", 2: "VEC2", 3: "VEC3", 4: "VEC4"}[comps]}
        if minmax:
            acc["min"] = [min(v[i] for v in values) for i in range(comps)]
            acc["max"] = [max(v[i] for v in values) for i in range(comps)]
        self.accessors.append(acc)
        return len(self.accessors) - 1

    def mesh(self, positions, normals, uvs, indices, material, name):
        return {"name": name, "primitives": [{
            "attributes": {"POSITION": self.add("f", positions, 3, 34962, minmax=True),
                           "NORMAL": self.add("f", normals, 3, 34962),
                           "TEXCOORD_0": self.add("f", uvs, 2, 34962)},
            "indices": self.add("H", indices, 1, 34963), "material": material}]}


def quad(size_x, size_z, y=0.0, flip=False, uv_scale=1.0):
    sx, sz = size_x / 2, size_z / 2
    pos = [(-sx, y, -sz), (sx, y, -sz), (sx, y, sz), (-sx, y, sz)]
    n = (0.0, -1.0 if flip else 1.0, 0.0)
    uv = [(0, 0), (uv_scale, 0), (uv_scale, uv_scale), (0, uv_scale)]
    idx = [0, 2, 1, 0, 3, 2] if not flip else [0, 1, 2, 0, 2, 3]
    return pos, [n] * 4, uv, idx


def sphere(radius, rings=12, segments=16):
    pos, nrm, uv, idx = [], [], [], []
    for r in range(rings + 1):
        theta = math.pi * r / rings
        for s in range(segments + 1):
            phi = 2 * math.pi * s / segments
            n = (math.sin(theta) * math.cos(phi), math.cos(theta), math.sin(theta) * math.sin(phi))
            pos.append(tuple(radius * c for c in n))
            nrm.append(n)
            uv.append((s / segments, r / rings))
    for r in range(rings):
        for s in range(segments):
            a, b = r * (segments + 1) + s, (r + 1) * (segments + 1) + s
            idx += [a, a + 1, b, b, a + 1, b + 1]
    return pos, nrm, uv, idx


def cube(h):
    pos, nrm, uv, idx = [], [], [], []
    for axis in range(3):
        for sign in (-1, 1):
            n = [0.0, 0.0, 0.0]
            n[axis] = float(sign)
            u_axis, v_axis = (axis + 1) % 3, (axis + 2) % 3
            base = len(pos)
            for (a, b) in ((-1, -1), (1, -1), (1, 1), (-1, 1)):
                p = [0.0, 0.0, 0.0]
                p[axis], p[u_axis], p[v_axis] = sign * h, a * h, b * h
                pos.append(tuple(p))
                nrm.append(tuple(n))
                uv.append(((a + 1) / 2, (b + 1) / 2))
            # (axis, u, v) is right-handed, so (0, 1, 2) turns counter-clockwise seen from +axis:
            # keep it on the +axis face and reverse it on the -axis face, so that every face is
            # counter-clockwise seen from outside (glTF's front face) and agrees with its normal.
            if sign > 0:
                idx += [base, base + 1, base + 2, base, base + 2, base + 3]
            else:
                idx += [base, base + 2, base + 1, base, base + 3, base + 2]
    return pos, nrm, uv, idx


def quat_y(deg):
    h = math.radians(deg) / 2
    return [0.0, math.sin(h), 0.0, math.cos(h)]


def quat_x(deg):
    h = math.radians(deg) / 2
    return [math.sin(h), 0.0, 0.0, math.cos(h)]


def write_glb(path, gltf, binary):
    """GLB container (glTF 2.0 spec, section 4.4): 12-byte header, a JSON chunk padded with spaces
    and a BIN chunk padded with zeros, each chunk length a multiple of 4."""
    doc = dict(gltf)
    doc["buffers"] = [{"byteLength": len(binary)}]  # buffer 0 without a uri: the GLB BIN chunk
    js = json.dumps(doc, separators=(",", ":")).encode()
    js += b" " * (-len(js) % 4)
    bn = binary + b"\x00" * (-len(binary) % 4)
    total = 12 + 8 + len(js) + 8 + len(bn)
    with open(path, "wb") as f:
        f.write(struct.pack("<4sII", b"glTF", 2, total))
        f.write(struct.pack("<I4s", len(js), b"JSON") + js)
        f.write(struct.pack("<I4s", len(bn), b"BIN\x00") + bn)


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    b = Builder()
    materials = [
        {"name": "floor", "pbrMetallicRoughness": {"baseColorFactor": [0.8, 0.8, 0.8, 1], "metallicFactor": 0.0,
                                                   "roughnessFactor": 0.9, "baseColorTexture": {"index": 0}}},
        {"name": "gold", "pbrMetallicRoughness": {"baseColorFactor": [1.0, 0.78, 0.34, 1], "metallicFactor": 1.0,
                                                  "roughnessFactor": 0.3}},
        {"name": "red", "pbrMetallicRoughness": {"baseColorFactor": [0.8, 0.1, 0.08, 1], "metallicFactor": 0.0,
                                                 "roughnessFactor": 0.6}},
        {"name": "panel", "pbrMetallicRoughness": {"baseColorFactor": [0, 0, 0, 1], "metallicFactor": 0.0},
         "emissiveFactor": [1.0, 0.9, 0.8], "extensions": {"KHR_materials_emissive_strength": {"emissiveStrength": 6.0}}},
    ]
    meshes = [
        b.mesh(*quad(8, 8, uv_scale=4.0), material=0, name="floor"),
        b.mesh(*sphere(0.5), material=1, name="sphere"),
        b.mesh(*cube(0.35), material=2, name="cube"),
        b.mesh(*quad(1.2, 0.6, flip=True), material=3, name="panel"),
    ]
    # Animation of the cube (node 3, child of the "rig" node 2): 0..2 s.
    times = [0.0, 1.0, 2.0]
    t_in = b.add("f", times, 1, minmax=False)
    b.accessors[t_in]["min"], b.accessors[t_in]["max"] = [0.0], [2.0]
    translation = b.add("f", [(-1.0, 0.35, 0.6), (0.0, 0.6, 0.9), (1.0, 0.35, 0.6)], 3)
    # CUBICSPLINE: (in-tangent, value, out-tangent) per key; zero tangents ease in and out.
    zero = (0.0, 0.0, 0.0, 0.0)
    rotation = b.add("f", [zero, tuple(quat_y(0)), zero, zero, tuple(quat_y(90)), zero, zero, tuple(quat_y(180)), zero], 4)
    scale = b.add("f", [(1.0, 1.0, 1.0), (1.25, 1.25, 1.25), (1.0, 1.0, 1.0)], 3)
    nodes = [
        {"name": "camera", "camera": 0, "translation": [0.0, 1.6, 4.2], "rotation": quat_x(-14)},
        {"name": "floor", "mesh": 0},
        {"name": "rig", "translation": [0.0, 0.0, 0.0], "children": [3]},
        {"name": "cube", "mesh": 2, "translation": [-1.0, 0.35, 0.6]},
        {"name": "sphere", "mesh": 1, "translation": [-0.9, 0.5, -0.6]},
        {"name": "panel", "mesh": 3, "translation": [0.6, 2.4, -0.8]},
        {"name": "key_light", "translation": [2.0, 3.0, 2.0], "extensions": {"KHR_lights_punctual": {"light": 0}}},
        {"name": "spot_light", "translation": [-2.5, 3.0, 1.5], "rotation": [-0.3535534, -0.3535534, -0.1464466, 0.8535534],
         "extensions": {"KHR_lights_punctual": {"light": 1}}},
        {"name": "sun", "rotation": quat_x(-60), "extensions": {"KHR_lights_punctual": {"light": 2}}},
        {"name": "side_camera", "camera": 1, "translation": [3.5, 1.2, 3.5], "rotation": [-0.0783, 0.3782, 0.0324, 0.9219]},
    ]
    gltf = {
        "asset": {"version": "2.0", "generator": "rfarm examples/scenes/make_demo_scene.py"},
        "extensionsUsed": ["KHR_lights_punctual", "KHR_materials_emissive_strength"],
        "extensions": {"KHR_lights_punctual": {"lights": [
            {"name": "key", "type": "point", "color": [1.0, 0.85, 0.7], "intensity": 12.0},
            {"name": "spot", "type": "spot", "color": [0.6, 0.7, 1.0], "intensity": 30.0,
             "spot": {"innerConeAngle": 0.2, "outerConeAngle": 0.5}},
            {"name": "sun", "type": "directional", "color": [1.0, 0.95, 0.9], "intensity": 0.6},
        ]}},
        "scene": 0,
        "scenes": [{"name": "demo", "nodes": [0, 1, 2, 4, 5, 6, 7, 8, 9]}],
        "nodes": nodes,
        "cameras": [
            {"name": "main", "type": "perspective", "perspective": {"yfov": 0.75, "znear": 0.05, "aspectRatio": 1.7778}},
            {"name": "side", "type": "perspective", "perspective": {"yfov": 0.6, "znear": 0.05}},
        ],
        "meshes": meshes,
        "materials": materials,
        "textures": [{"source": 0, "sampler": 0}],
        "samplers": [{"magFilter": 9729, "minFilter": 9729, "wrapS": 10497, "wrapT": 10497}],
        "images": [{"uri": "checker.png"}],
        "animations": [{"name": "cube_move", "channels": [
            {"sampler": 0, "target": {"node": 3, "path": "translation"}},
            {"sampler": 1, "target": {"node": 3, "path": "rotation"}},
            {"sampler": 2, "target": {"node": 3, "path": "scale"}},
        ], "samplers": [
            {"input": t_in, "output": translation, "interpolation": "LINEAR"},
            {"input": t_in, "output": rotation, "interpolation": "CUBICSPLINE"},
            {"input": t_in, "output": scale, "interpolation": "STEP"},
        ]}],
        "buffers": [{"uri": "animated_demo.bin", "byteLength": len(b.bin)}],
        "bufferViews": b.views,
        "accessors": b.accessors,
    }
    with open(os.path.join(out_dir, "animated_demo.bin"), "wb") as f:
        f.write(bytes(b.bin))
    with open(os.path.join(out_dir, "animated_demo.gltf"), "w") as f:
        json.dump(gltf, f, indent=1)
        f.write("\n")
    write_glb(os.path.join(out_dir, "animated_demo.glb"), gltf, bytes(b.bin))
    checker = png_bytes(8, 8, lambda x, y: (235, 235, 235, 255) if (x + y) % 2 == 0 else (60, 60, 70, 255))
    with open(os.path.join(out_dir, "checker.png"), "wb") as f:
        f.write(checker)


if __name__ == "__main__":
    main()
