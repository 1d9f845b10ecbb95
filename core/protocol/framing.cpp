// SPDX-License-Identifier: MIT
#include "framing.h"

namespace lark::protocol
{

// The UTF-8 size of a decoded frame, without converting it: the message cap is in bytes.
static qsizetype utf8Size(const QString &s)
{
    qsizetype n = 0;
    for (const QChar c : s) {
        const ushort u = c.unicode();
        n += u < 0x80 ? 1 : (u < 0x800 || c.isSurrogate() ? 2 : 3); // a surrogate pair is 4 bytes
    }
    return n;
}

static bool isCountFrame(const QString &frame)
{
    if (frame.isEmpty() || frame.size() > 6)
        return false;
    for (const QChar c : frame) {
        if (c < u'0' || c > u'9')
            return false;
    }
    return true;
}

FrameAssembler::Result FrameAssembler::feed(const QString &frame, QString *message)
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
            m_bufferBytes = 0;
            return Result::Pending;
        }
        // UTF-16 units never outnumber UTF-8 bytes: only count the bytes when it could matter.
        if (frame.size() > m_maxBytes || (frame.size() * 3 > m_maxBytes && utf8Size(frame) > m_maxBytes))
            return Result::TooBig;
        *message = frame;
        return Result::Message;
    }
    m_bufferBytes += utf8Size(frame);
    if (m_bufferBytes > m_maxBytes) {
        m_remaining = 0;
        m_buffer.clear();
        m_bufferBytes = 0;
        return Result::TooBig;
    }
    m_buffer += frame;
    if (--m_remaining > 0)
        return Result::Pending;
    *message = std::move(m_buffer);
    m_buffer.clear();
    return Result::Message;
}

QList<QString> splitFrames(const QByteArray &utf8Message)
{
    if (utf8Message.size() <= MaxFrameBytes)
        return {QString::fromUtf8(utf8Message)};
    QList<QString> pieces;
    qsizetype pos = 0;
    while (pos < utf8Message.size()) {
        qsizetype end = std::min(pos + MaxFrameBytes, utf8Message.size());
        // Back off continuation bytes (10xxxxxx) so no code point is cut.
        while (end < utf8Message.size() && end > pos && (uchar(utf8Message.at(end)) & 0xC0) == 0x80)
            --end;
        pieces.append(QString::fromUtf8(utf8Message.constData() + pos, end - pos));
        pos = end;
    }
    pieces.prepend(QString::number(pieces.size()));
    return pieces;
}

QByteArray serverTextFrame(const QByteArray &utf8Payload)
{
    const auto size = quint64(utf8Payload.size());
    QByteArray frame;
    frame.reserve(qsizetype(size) + 10);
    frame.append(char(0x81)); // FIN + text
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
    frame.append(utf8Payload);
    return frame;
}

} // namespace lark::protocol
