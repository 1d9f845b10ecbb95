// SPDX-License-Identifier: MIT
#include "framing.h"

namespace lark::protocol
{

static bool isCountFrame(const QByteArray &frame)
{
    if (frame.isEmpty() || frame.size() > 6)
        return false;
    for (const char c : frame) {
        if (c < '0' || c > '9')
            return false;
    }
    return true;
}

FrameAssembler::Result FrameAssembler::feed(const QByteArray &frame, QByteArray *message)
{
    if (m_remaining == 0) {
        if (isCountFrame(frame)) {
            const int count = frame.toInt();
            if (count == 0)
                return Result::KeepAlive;
            if (count > MaxFrameCount)
                return Result::BadCount;
            m_remaining = count;
            m_buffer.clear();
            return Result::Pending;
        }
        if (frame.size() > m_maxBytes)
            return Result::TooBig;
        *message = frame;
        return Result::Message;
    }
    if (m_buffer.size() + frame.size() > m_maxBytes) {
        m_remaining = 0;
        m_buffer.clear();
        return Result::TooBig;
    }
    m_buffer += frame;
    if (--m_remaining > 0)
        return Result::Pending;
    *message = std::exchange(m_buffer, {});
    return Result::Message;
}

Frames splitFrames(const QByteArray &utf8Message)
{
    if (utf8Message.size() <= MaxFrameBytes)
        return {utf8Message};
    Frames pieces;
    qsizetype pos = 0;
    while (pos < utf8Message.size()) {
        qsizetype end = std::min(pos + MaxFrameBytes, utf8Message.size());
        // Back off continuation bytes (10xxxxxx) so no code point is cut.
        while (end < utf8Message.size() && end > pos && (uchar(utf8Message.at(end)) & 0xC0) == 0x80)
            --end;
        pieces.append(utf8Message.sliced(pos, end - pos));
        pos = end;
    }
    pieces.prepend(QByteArray::number(pieces.size()));
    return pieces;
}

QByteArray serverFrame(quint8 opcode, const QByteArray &payload)
{
    const auto size = quint64(payload.size());
    QByteArray frame;
    frame.reserve(qsizetype(size) + 10);
    frame.append(char(0x80 | opcode)); // FIN
    if (size < 126) {
        frame.append(char(size));
    } else if (size <= 0xffff) {
        frame.append(char(126));
        frame.append(char(size >> 8));
        frame.append(char(size & 0xff));
    } else {
        frame.append(char(127));
        for (int shift = 56; shift >= 0; shift -= 8)
            frame.append(char((size >> shift) & 0xff));
    }
    frame.append(payload);
    return frame;
}

} // namespace lark::protocol
