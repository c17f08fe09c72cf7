#include "renderer/exr_io.h"

#include <ImfChannelList.h>
#include <ImfFrameBuffer.h>
#include <ImfHeader.h>
#include <ImfInputFile.h>
#include <ImfIntAttribute.h>
#include <ImfOutputFile.h>
#include <ImfStringAttribute.h>

#include "core/atomic_file.h"
#include "core/error.h"

namespace rfarm::render {

void write_exr(const std::filesystem::path& path, const Film& film, const ExrAttributes& attrs) {
  Imf::Header header(film.width, film.height);
  header.compression() = Imf::ZIP_COMPRESSION;
  for (auto name : kChannelNames) header.channels().insert(std::string(name), Imf::Channel(Imf::FLOAT));
  for (const auto& [k, v] : attrs.strings) header.insert(k, Imf::StringAttribute(v));
  for (const auto& [k, v] : attrs.ints) header.insert(k, Imf::IntAttribute(v));
  Imf::FrameBuffer fb;
  for (int c = 0; c < kChannelCount; ++c)
    fb.insert(std::string(kChannelNames[static_cast<std::size_t>(c)]),
              Imf::Slice(Imf::FLOAT, reinterpret_cast<char*>(const_cast<float*>(film.channels[static_cast<std::size_t>(c)].data())),
                         sizeof(float), sizeof(float) * static_cast<std::size_t>(film.width)));
  write_file_atomically_with(path, [&](const std::filesystem::path& temp) {
    try {
      Imf::OutputFile out(temp.c_str(), header);
      out.setFrameBuffer(fb);
      out.writePixels(film.height);
    } catch (const std::exception& e) {
      throw Error(Error::Kind::Io, path.string() + ": cannot write EXR: " + e.what() +
                                       " (check the output directory is writable and has space)");
    }
  });
}

ExrImage read_exr(const std::filesystem::path& path) {
  ExrImage img;
  try {
    Imf::InputFile in(path.c_str());
    const Imf::Header& h = in.header();
    Imath::Box2i dw = h.dataWindow();
    int w = dw.max.x - dw.min.x + 1, ht = dw.max.y - dw.min.y + 1;
    img.film = Film(w, ht);
    Imf::FrameBuffer fb;
    for (int c = 0; c < kChannelCount; ++c) {
      std::string name(kChannelNames[static_cast<std::size_t>(c)]);
      if (!h.channels().findChannel(name))
        throw Error(Error::Kind::Integrity, path.string() + ": channel " + name + " is missing (not an rfarm frame; re-render it)");
      char* base = reinterpret_cast<char*>(img.film.channels[static_cast<std::size_t>(c)].data()) -
                   (static_cast<std::ptrdiff_t>(dw.min.x) + static_cast<std::ptrdiff_t>(dw.min.y) * w) * static_cast<std::ptrdiff_t>(sizeof(float));
      fb.insert(name, Imf::Slice(Imf::FLOAT, base, sizeof(float), sizeof(float) * static_cast<std::size_t>(w)));
    }
    in.setFrameBuffer(fb);
    in.readPixels(dw.min.y, dw.max.y);
    for (auto it = h.begin(); it != h.end(); ++it) {
      std::string name = it.name();
      if (name.rfind("rfarm.", 0) != 0) continue;
      if (auto* s = dynamic_cast<const Imf::StringAttribute*>(&it.attribute())) img.attrs.strings[name] = s->value();
      else if (auto* i = dynamic_cast<const Imf::IntAttribute*>(&it.attribute())) img.attrs.ints[name] = i->value();
    }
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    throw Error(Error::Kind::Integrity, path.string() + ": cannot read EXR: " + e.what() + " (re-render the frame)");
  }
  return img;
}

}  // namespace rfarm::render
