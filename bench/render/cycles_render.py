# Blender side of the rfarm-vs-Cycles benchmark (bench/render/compare_cycles.py drives it).
#
#   blender -b --factory-startup --python bench/render/cycles_render.py -- \
#       --scene examples/scenes/animated_demo.gltf --camera camera --frame 0 \
#       --resolution 320x180 --spp 64 --max-depth 4 --threads 2 \
#       --output /tmp/cycles.exr --json /tmp/cycles.json [--describe]
#
# Imports the glTF through Blender's own importer into an empty scene, sets Cycles up to match
# `rfarm render` (see docs/RENDERER.md, "Benchmark against Cycles", for the mapping and why), renders
# one frame on the CPU and writes a linear float EXR plus a JSON record with the timings and what was
# imported. Nothing here is an rfarm setting: it only reads the glTF and drives Blender.
import argparse
import json
import math
import sys
import time

import bpy

T_START = time.perf_counter()


def parse_args():
    argv = sys.argv[sys.argv.index("--") + 1:] if "--" in sys.argv else []
    p = argparse.ArgumentParser(prog="cycles_render.py")
    p.add_argument("--scene", required=True)
    p.add_argument("--camera", default="camera", help="camera object (= glTF node) name")
    p.add_argument("--frame", type=int, default=0,
                   help="Blender frame; the importer puts glTF time t at frame t*fps, so rfarm frame F "
                        "(time (F - frame_start)/fps) is Blender frame F - frame_start")
    p.add_argument("--resolution", default="320x180")
    p.add_argument("--spp", type=int, default=64)
    p.add_argument("--max-depth", type=int, default=4, help="rfarm's --max-depth (pbrt maxdepth)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--lighting-mode", default="COMPAT", choices=["SPEC", "COMPAT", "RAW"],
                   help="importer light conversion; COMPAT = glTF intensity taken as radiometric, like rfarm")
    p.add_argument("--texture-filtering", default="linear", choices=["linear", "srgb"],
                   help="linear: 8-bit sRGB textures become linear float images, so Cycles filters them in "
                        "linear light as glTF (and rfarm) do; srgb: Blender's default (byte texture filtered "
                        "in sRGB, decoded after)")
    p.add_argument("--materials", default="principled", choices=["principled", "gltf"],
                   help="principled: the importer's Principled BSDF (Blender 3.4: Disney diffuse, no "
                        "(1 - F) on the diffuse layer); gltf: dielectrics rebuilt as glTF's BRDF (Lambert "
                        "and GGX mixed by a Fresnel IOR 1.5 node), metals kept as Principled metal")
    p.add_argument("--spot", default="gltf", choices=["gltf", "blender"],
                   help="gltf: each spot light becomes a point light whose emission node applies glTF's "
                        "cone falloff; blender: the importer's spot (Cycles 3.4: cos(angle) times a "
                        "smoothstep over spot_blend, a different profile)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--output", required=True, help="linear float EXR to write")
    p.add_argument("--json", required=True, help="record of settings, imported scene and timings")
    p.add_argument("--describe", action="store_true", help="also print what was imported")
    return p.parse_args(argv)


def vec(v):
    return [round(float(x), 6) for x in v]


def numpy_compat():
    # Debian 12 pairs blender 3.4.1 with numpy 1.24, which removed the `np.bool` alias that the
    # 3.4 glTF importer still uses (io_scene_gltf2/blender/imp/gltf2_blender_mesh.py:612). Put the
    # alias back (it meant the builtin bool) so the importer runs; nothing else changes.
    import numpy
    if "bool" not in numpy.__dict__:
        numpy.bool = bool


def clear_scene():
    # --factory-startup still creates the default cube, light and camera, and a grey (0.05) world.
    bpy.ops.wm.read_factory_settings(use_empty=True)


def black_world(scene):
    world = bpy.data.worlds.new("rfarm_black")
    world.use_nodes = True
    bg = world.node_tree.nodes.get("Background")
    bg.inputs["Color"].default_value = (0.0, 0.0, 0.0, 1.0)
    bg.inputs["Strength"].default_value = 0.0
    scene.world = world  # rfarm: background 0 (escaping rays carry no radiance)


def make_lights_punctual():
    # glTF punctual lights have no size; Blender's default point/spot radius is 0.1 m (soft shadows,
    # and a sphere that camera rays could hit) and a sun has an angle. Make them points/deltas.
    for light in bpy.data.lights:
        if light.type in ("POINT", "SPOT"):
            light.shadow_soft_size = 0.0
        elif light.type == "SUN":
            light.angle = 0.0
        light.cycles.max_bounces = 1024  # per-light bounce cap: off


def srgb_to_linear(c):
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def linear_float_textures():
    # Cycles keeps an 8-bit sRGB texture in bytes and decodes sRGB to linear *after* bilinear
    # filtering; glTF (and rfarm) decode each texel first and filter linear values. On the demo's
    # 8x8 checker (one texel per square) that makes Cycles' floor albedo ~25% darker on average.
    # Replace each such image by a float copy holding the decoded linear texels ('Linear' colour
    # space: Cycles then filters linear values). Returns what was converted.
    converted = []
    for mat in bpy.data.materials:
        if not mat.use_nodes:
            continue
        for node in mat.node_tree.nodes:
            img = getattr(node, "image", None)
            if node.bl_idname != "ShaderNodeTexImage" or img is None or img.is_float:
                continue
            if img.colorspace_settings.name != "sRGB":
                continue  # non-colour data (metallic-roughness) is already filtered as stored
            w, h = img.size
            px = list(img.pixels)  # byte image: sRGB-encoded values in [0, 1], alpha linear
            for i in range(0, len(px), 4):
                px[i] = srgb_to_linear(px[i])
                px[i + 1] = srgb_to_linear(px[i + 1])
                px[i + 2] = srgb_to_linear(px[i + 2])
            lin = bpy.data.images.new(img.name + "_linear", w, h, alpha=True, float_buffer=True)
            lin.colorspace_settings.name = "Linear"
            lin.pixels = px
            node.image = lin
            converted.append({"material": mat.name, "image": img.name, "size": [w, h],
                              "interpolation": node.interpolation, "extension": node.extension})
    return converted


def gltf_materials():
    # glTF 2.0 Appendix B: dielectric = fresnel_mix(ior 1.5, Lambert diffuse, GGX specular) with
    # Schlick's F at V.H per microfacet; metal = GGX with Schlick F tinted by the base colour.
    # Blender 3.4's Principled v1 has the right specular and metal lobes (GGX, alpha = roughness^2,
    # Fresnel per microfacet, f0 = 0.08 * specular = 0.04 for specular 0.5) but a Disney diffuse
    # (brighter towards grazing angles, no (1 - F)). So each material becomes
    #   Principled(base colour black: its specular lobe only, or its metal lobe when metallic)
    #   + Diffuse BSDF(roughness 0 = Lambert, colour base * (1 - metallic) * (1 - 0.04)).
    # Approximation left: glTF weights the diffuse by 1 - F(V.H) per direction; here by the
    # constant 1 - f0 (Cycles nodes cannot see the light direction), slightly brighter at grazing
    # angles. (A Fresnel node mix would weight the specular by F(N.V): 4x too much at the grazing
    # views of the cube's top.) Emission is kept (Principled's Emission input).
    rebuilt = []
    for mat in bpy.data.materials:
        if not mat.use_nodes:
            continue
        nt = mat.node_tree
        pr = next((n for n in nt.nodes if n.bl_idname == "ShaderNodeBsdfPrincipled"), None)
        out = next((n for n in nt.nodes if n.bl_idname == "ShaderNodeOutputMaterial"), None)
        if pr is None or out is None:
            continue
        base = pr.inputs["Base Color"]
        base_src = base.links[0].from_socket if base.links else None
        base_val = tuple(base.default_value)
        # Principled keeps metal (metallic input as imported) and the specular layer; its diffuse
        # layer is switched off by a black base colour where the material is not metallic.
        metal_mix = nt.nodes.new("ShaderNodeMix")  # base colour * metallic
        metal_mix.data_type = "RGBA"
        metal_mix.blend_type = "MULTIPLY"
        metal_mix.inputs["Factor"].default_value = 1.0
        if base_src is not None:
            nt.links.new(base_src, metal_mix.inputs[6])
        else:
            metal_mix.inputs[6].default_value = base_val
        met = pr.inputs["Metallic"]
        if met.links:
            comb = nt.nodes.new("ShaderNodeCombineColor")
            for k in range(3):
                nt.links.new(met.links[0].from_socket, comb.inputs[k])
            nt.links.new(comb.outputs[0], metal_mix.inputs[7])
        else:
            metal_mix.inputs[7].default_value = (met.default_value,) * 3 + (1.0,)
        for link in list(base.links):
            nt.links.remove(link)
        nt.links.new(metal_mix.outputs[2], base)
        pr.inputs["Specular"].default_value = 0.5
        pr.inputs["Specular Tint"].default_value = 0.0
        pr.inputs["Sheen"].default_value = 0.0
        # Lambert diffuse: base * (1 - metallic) * (1 - 0.04).
        diff_mix = nt.nodes.new("ShaderNodeMix")
        diff_mix.data_type = "RGBA"
        diff_mix.blend_type = "MULTIPLY"
        diff_mix.inputs["Factor"].default_value = 1.0
        if base_src is not None:
            nt.links.new(base_src, diff_mix.inputs[6])
        else:
            diff_mix.inputs[6].default_value = base_val
        inv = nt.nodes.new("ShaderNodeMath")
        inv.operation = "MULTIPLY_ADD"  # metallic * -0.96 + 0.96
        inv.inputs[1].default_value = -0.96
        inv.inputs[2].default_value = 0.96
        if met.links:
            nt.links.new(met.links[0].from_socket, inv.inputs[0])
        else:
            inv.inputs[0].default_value = met.default_value
        comb2 = nt.nodes.new("ShaderNodeCombineColor")
        for k in range(3):
            nt.links.new(inv.outputs[0], comb2.inputs[k])
        nt.links.new(comb2.outputs[0], diff_mix.inputs[7])
        diffuse = nt.nodes.new("ShaderNodeBsdfDiffuse")
        diffuse.inputs["Roughness"].default_value = 0.0
        nt.links.new(diff_mix.outputs[2], diffuse.inputs["Color"])
        add = nt.nodes.new("ShaderNodeAddShader")
        nt.links.new(pr.outputs["BSDF"], add.inputs[0])
        nt.links.new(diffuse.outputs["BSDF"], add.inputs[1])
        nt.links.new(add.outputs["Shader"], out.inputs["Surface"])
        rebuilt.append(mat.name)
    return rebuilt


def gltf_spots(scene_path):
    # KHR_lights_punctual spot: intensity * clamp((cos a - cos outer) / (cos inner - cos outer))^2.
    # Cycles 3.4 spots are cos(a) * smoothstep over a blend zone instead. Rebuild each spot as a
    # point light (same place, power, colour, radius 0) whose light shader computes the glTF
    # falloff from the light-to-point direction (the Geometry node's Normal on a point light).
    import mathutils
    with open(scene_path) as f:
        lights = json.load(f)["extensions"]["KHR_lights_punctual"]["lights"]
    rebuilt = []
    for ob in list(bpy.context.scene.objects):
        if ob.type != "LIGHT" or ob.data.type != "SPOT":
            continue
        src = next(l for l in lights if l.get("name") == ob.data.name and l["type"] == "spot")
        cos_o = math.cos(src["spot"].get("outerConeAngle", math.pi / 4))
        cos_i = math.cos(src["spot"].get("innerConeAngle", 0.0))
        axis = (ob.matrix_world.to_3x3() @ mathutils.Vector((0, 0, -1))).normalized()
        spot = ob.data
        ob.data = point = bpy.data.lights.new(spot.name + "_gltf_spot", "POINT")
        point.energy, point.color, point.shadow_soft_size = spot.energy, spot.color, 0.0
        point.cycles.max_bounces = 1024
        point.use_nodes = True
        nt = point.node_tree
        em = nt.nodes["Emission"]
        geo = nt.nodes.new("ShaderNodeNewGeometry")
        dot = nt.nodes.new("ShaderNodeVectorMath")
        dot.operation = "DOT_PRODUCT"
        dot.inputs[1].default_value = axis
        nt.links.new(geo.outputs["Normal"], dot.inputs[0])
        lin = nt.nodes.new("ShaderNodeMapRange")  # (cos a - cos outer) / (cos inner - cos outer), clamped
        lin.clamp = True
        lin.inputs["From Min"].default_value = cos_o
        lin.inputs["From Max"].default_value = cos_i
        nt.links.new(dot.outputs["Value"], lin.inputs["Value"])
        sq = nt.nodes.new("ShaderNodeMath")
        sq.operation = "MULTIPLY"
        nt.links.new(lin.outputs["Result"], sq.inputs[0])
        nt.links.new(lin.outputs["Result"], sq.inputs[1])
        nt.links.new(sq.outputs["Value"], em.inputs["Strength"])
        rebuilt.append({"light": spot.name, "cos_outer": cos_o, "cos_inner": cos_i, "axis": vec(axis)})
    return rebuilt


def describe_lights():
    out = []
    for ob in bpy.context.scene.objects:
        if ob.type != "LIGHT":
            continue
        l = ob.data
        d = {"object": ob.name, "type": l.type, "energy": l.energy, "color": vec(l.color),
             "location": vec(ob.matrix_world.translation),
             "direction": vec(ob.matrix_world.to_3x3() @ __import__("mathutils").Vector((0, 0, -1)))}
        if l.type in ("POINT", "SPOT"):
            d["radius"] = l.shadow_soft_size
            d["intensity_W_per_sr"] = l.energy / (4 * math.pi)  # Cycles: I = P / (4 pi)
        if l.type == "SPOT":
            d["spot_size"] = l.spot_size
            d["spot_blend"] = l.spot_blend
        if l.type == "SUN":
            d["angle"] = l.angle
        out.append(d)
    return out


def socket_value(node, name):
    s = node.inputs.get(name)
    if s is None:
        return None
    linked = [link.from_node.bl_idname + ":" + getattr(getattr(link.from_node, "image", None), "name", "")
              for link in s.links]
    v = s.default_value
    try:
        v = vec(v)
    except TypeError:
        v = round(float(v), 6)
    return {"value": v, "linked": linked} if linked else v


def describe_materials():
    out = []
    for m in bpy.data.materials:
        if not m.use_nodes:
            continue
        for node in m.node_tree.nodes:
            if node.bl_idname != "ShaderNodeBsdfPrincipled":
                continue
            out.append({"material": m.name, "distribution": node.distribution,
                        **{k: socket_value(node, k) for k in (
                            "Base Color", "Metallic", "Roughness", "Specular", "Specular Tint",
                            "Sheen", "Clearcoat", "Transmission", "Emission", "Emission Strength", "Alpha")}})
    return out


def describe_camera(scene):
    ob = scene.camera
    c = ob.data
    return {"object": ob.name, "type": c.type, "angle_y": c.angle_y, "sensor_fit": c.sensor_fit,
            "clip_start": c.clip_start, "shift": [c.shift_x, c.shift_y], "dof": c.dof.use_dof,
            "location": vec(ob.matrix_world.translation),
            "forward": vec(ob.matrix_world.to_3x3() @ __import__("mathutils").Vector((0, 0, -1)))}


def describe_meshes():
    return [{"object": ob.name, "triangles": sum(len(p.vertices) - 2 for p in ob.data.polygons),
             "location": vec(ob.matrix_world.translation),
             "matrix_world": [vec(r) for r in ob.matrix_world]}
            for ob in bpy.context.scene.objects if ob.type == "MESH"]


def setup_cycles(scene, a, width, height):
    scene.render.engine = "CYCLES"
    cy = scene.cycles
    cy.device = "CPU"
    scene.render.threads_mode = "FIXED"
    scene.render.threads = a.threads
    scene.render.resolution_x = width
    scene.render.resolution_y = height
    scene.render.resolution_percentage = 100
    scene.render.pixel_aspect_x = scene.render.pixel_aspect_y = 1
    scene.render.use_motion_blur = False
    scene.render.film_transparent = False
    scene.render.use_persistent_data = False
    cy.samples = a.spp
    cy.use_adaptive_sampling = False
    cy.use_denoising = False
    cy.use_preview_denoising = False
    cy.seed = a.seed
    cy.use_animated_seed = False
    # rfarm --max-depth N counts scattering events like pbrt (1 = direct light only); Cycles'
    # max_bounces counts indirect bounces (0 = direct light only): Cycles = N - 1.
    b = max(0, a.max_depth - 1)
    cy.max_bounces = b
    cy.diffuse_bounces = b
    cy.glossy_bounces = b
    cy.transmission_bounces = b
    cy.volume_bounces = 0
    cy.transparent_max_bounces = 8  # the scene has no transparency; these do not count as bounces
    cy.min_light_bounces = 0        # Russian roulette: Cycles' default (from the first bounce)
    cy.min_transparent_bounces = 0
    # Unbiased settings: no clamping, no glossy blur, no light threshold, caustics on (rfarm has no
    # caustics filter either).
    cy.sample_clamp_direct = 0.0
    cy.sample_clamp_indirect = 0.0
    cy.blur_glossy = 0.0
    cy.caustics_reflective = True
    cy.caustics_refractive = True
    cy.light_sampling_threshold = 0.0
    for attr in ("use_light_tree", "use_guiding"):  # light tree: Blender >= 3.5; guiding: off by default
        if hasattr(cy, attr):
            setattr(cy, attr, False)
    # Box filter one pixel wide, like rfarm (uniform jitter inside the pixel).
    cy.pixel_filter_type = "BOX"
    cy.filter_width = 1.0
    cy.film_exposure = 1.0
    # Linear output: no view transform, no look, no exposure, no gamma, no dither.
    vs = scene.view_settings
    vs.view_transform = "Standard"
    vs.look = "None"
    vs.exposure = 0.0
    vs.gamma = 1.0
    vs.use_curve_mapping = False
    scene.display_settings.display_device = "sRGB"
    scene.render.dither_intensity = 0.0
    im = scene.render.image_settings
    im.file_format = "OPEN_EXR"
    im.color_depth = "32"
    im.color_mode = "RGBA"
    im.exr_codec = "ZIP"
    scene.render.filepath = a.output
    scene.render.use_file_extension = False


def main():
    a = parse_args()
    width, height = (int(x) for x in a.resolution.lower().split("x"))
    clear_scene()
    numpy_compat()
    t_import = time.perf_counter()
    bpy.ops.import_scene.gltf(filepath=a.scene, convert_lighting_mode=a.lighting_mode)
    t_import = time.perf_counter() - t_import
    scene = bpy.context.scene
    black_world(scene)
    make_lights_punctual()
    textures = linear_float_textures() if a.texture_filtering == "linear" else []
    describe_principled = describe_materials()  # before any rebuild: what the importer made
    rebuilt = gltf_materials() if a.materials == "gltf" else []
    describe_spots = describe_lights()  # before any rebuild: what the importer made
    spots = gltf_spots(a.scene) if a.spot == "gltf" else []
    cam = bpy.data.objects.get(a.camera)
    if cam is None or cam.type != "CAMERA":
        raise SystemExit("cycles_render.py: no camera object named %r (have %s)" % (
            a.camera, [o.name for o in scene.objects if o.type == "CAMERA"]))
    scene.camera = cam
    scene.render.fps = 24
    scene.frame_set(a.frame)
    setup_cycles(scene, a, width, height)
    imported = {"lights": describe_spots, "spot_mode": a.spot, "spots_rebuilt_as_gltf_falloff": spots,
                "camera": describe_camera(scene),
                "materials": describe_principled, "materials_mode": a.materials,
                "materials_rebuilt_as_gltf_brdf": rebuilt, "meshes": describe_meshes(),
                "world": "black (strength 0)", "lighting_mode": a.lighting_mode,
                "texture_filtering": a.texture_filtering, "textures_made_linear_float": textures}
    if a.describe:
        print("cycles_render.py: imported " + json.dumps(imported))

    t0 = time.perf_counter()
    bpy.ops.render.render(write_still=True)  # sync + BVH + path tracing + EXR write
    render_s = time.perf_counter() - t0
    samples = width * height * a.spp
    rec = {"blender": bpy.app.version_string, "scene": a.scene, "frame": a.frame,
           "resolution": [width, height], "spp": a.spp, "max_depth": a.max_depth,
           "cycles_max_bounces": scene.cycles.max_bounces, "threads": scene.render.threads,
           "import_s": t_import, "render_s": render_s,
           "process_to_render_end_s": time.perf_counter() - T_START,
           "samples": samples, "samples_per_s": samples / render_s, "output": a.output,
           "imported": imported}
    with open(a.json, "w") as f:
        json.dump(rec, f, indent=1)
    print("cycles_render.py: %dx%d %d spp rendered in %.3f s (%.3f Msamples/s) -> %s" % (
        width, height, a.spp, render_s, samples / render_s / 1e6, a.output))


main()
