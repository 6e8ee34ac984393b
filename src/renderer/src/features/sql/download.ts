// Saves text as a file through the browser's download (the desktop app asks where to save it).

export function downloadText(fileName: string, text: string, type: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }))
  const a = document.createElement('a')
  a.href = url
  a.download = fileName
  a.click()
  // the click has handed the blob to the download already
  setTimeout(() => URL.revokeObjectURL(url), 0)
}
