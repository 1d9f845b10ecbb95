// SPDX-License-Identifier: MIT
#pragma once

#include <QByteArray>
#include <QList>

namespace lark::protocol
{

/**
 * Joins the SDK's frames into messages (docs/wire-protocol.md §3): a frame of at most six digits announces how many
 * frames the next message spans; "0" is the client's keep-alive. Anything else is a whole message, or the next piece of
 * an announced one. The joined size is capped so a client cannot make the server buffer without bound.
 */
class FrameAssembler
{
public:
    enum class Result {
        Pending, /**< a piece of an announced message; nothing to do yet */
        Message, /**< *message holds a complete message */
        KeepAlive, /**< the client's "0" */
        TooBig, /**< the joined message exceeds the cap */
        BadCount, /**< a frame count that cannot be honoured */
    };

    explicit FrameAssembler(qsizetype maxMessageBytes)
        : m_maxBytes(maxMessageBytes)
    {
    }

    /** frame and *message are UTF-8, as they come off the WebSocket. */
    Result feed(const QByteArray &frame, QByteArray *message);
    [[nodiscard]] bool isBuffering() const { return m_remaining > 0; }

private:
    qsizetype m_maxBytes;
    int m_remaining = 0;
    QByteArray m_buffer;
};

/** The SDK splits at 16384 characters; the server splits at 16384 bytes on UTF-8 code point boundaries. */
constexpr qsizetype MaxFrameBytes = 16384;
constexpr int MaxFrameCount = 100000;

/** A message split into the text frames that carry it, each UTF-8: what a WebSocket sends for one message. */
using Frames = QList<QByteArray>;

/**
 * The frames to send for one message: the message itself when it fits in one frame, else a count frame and
 * the pieces, none of which cuts a code point. Never yields a lone short numeric frame for a real message: the
 * SDK would read it as a count. A push is split once and shared (implicitly) by every connection it goes to.
 */
[[nodiscard]] Frames splitFrames(const QByteArray &utf8Message);

/** One unmasked, final WebSocket frame (RFC 6455 §5.2) with opcode and payload: what a server puts on the wire. */
[[nodiscard]] QByteArray serverFrame(quint8 opcode, const QByteArray &payload);
/** serverFrame() for a text message (opcode 1). */
[[nodiscard]] inline QByteArray serverTextFrame(const QByteArray &utf8Payload)
{
    return serverFrame(0x1, utf8Payload);
}

} // namespace lark::protocol
